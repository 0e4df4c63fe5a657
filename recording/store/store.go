package store

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/encrypt"
)

// Store is an opened recording bucket. It is safe for concurrent use.
type Store struct {
	cfg    Config
	client *minio.Client
	sse    encrypt.ServerSide
	log    *slog.Logger
}

// Open validates cfg, connects and checks that the bucket exists with
// object lock enabled.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*Store, error) {
	client, err := connect(&cfg)
	if err != nil {
		return nil, err
	}
	sse, err := serverSide(cfg)
	if err != nil {
		return nil, err
	}
	s := &Store{cfg: cfg, client: client, sse: sse, log: log}
	if err := s.checkBucket(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// CreateBucket creates cfg.Bucket with object lock enabled (which turns
// versioning on), for development and tests. An existing bucket is left as
// it is; Open then checks it.
func CreateBucket(ctx context.Context, cfg Config) error {
	client, err := connect(&cfg)
	if err != nil {
		return err
	}
	exists, err := client.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return fmt.Errorf("store: check bucket %q: %w", cfg.Bucket, err)
	}
	if exists {
		return nil
	}
	opts := minio.MakeBucketOptions{Region: cfg.Region, ObjectLocking: true}
	if err := client.MakeBucket(ctx, cfg.Bucket, opts); err != nil {
		return fmt.Errorf("store: create bucket %q: %w", cfg.Bucket, err)
	}
	return nil
}

// connect applies defaults, validates and builds the client.
func connect(cfg *Config) (*minio.Client, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	tr, err := transport(cfg.CAFile)
	if err != nil {
		return nil, err
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:      credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:     true,
		Transport:  tr,
		Region:     cfg.Region,
		MaxRetries: cfg.MaxRetries,
	})
	if err != nil {
		return nil, fmt.Errorf("store: client: %w", err)
	}
	return client, nil
}

// transport trusts the CAs in caFile when set, else the system roots.
func transport(caFile string) (http.RoundTripper, error) {
	tr, err := minio.DefaultTransport(true)
	if err != nil {
		return nil, fmt.Errorf("store: transport: %w", err)
	}
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile == "" {
		return tr, nil
	}
	pemBytes, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("%w: read ca_file: %w", ErrConfig, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		return nil, fmt.Errorf("%w: ca_file holds no PEM certificate", ErrConfig)
	}
	tr.TLSClientConfig.RootCAs = pool
	return tr, nil
}

func serverSide(cfg Config) (encrypt.ServerSide, error) {
	if cfg.SSE == SSES3 {
		return encrypt.NewSSE(), nil
	}
	sse, err := encrypt.NewSSEKMS(cfg.KMSKeyID, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: kms key: %w", ErrConfig, err)
	}
	return sse, nil
}

// checkBucket fails with ErrBucket unless the bucket exists with object lock.
func (s *Store) checkBucket(ctx context.Context) error {
	exists, err := s.client.BucketExists(ctx, s.cfg.Bucket)
	if err != nil {
		return fmt.Errorf("store: check bucket %q: %w", s.cfg.Bucket, err)
	}
	if !exists {
		return fmt.Errorf("%w: %q does not exist", ErrBucket, s.cfg.Bucket)
	}
	lock, _, _, _, err := s.client.GetObjectLockConfig(ctx, s.cfg.Bucket)
	if err != nil {
		if minio.ToErrorResponse(err).Code == "ObjectLockConfigurationNotFoundError" {
			return fmt.Errorf("%w: %q has no object lock", ErrBucket, s.cfg.Bucket)
		}
		return fmt.Errorf("store: object lock of %q: %w", s.cfg.Bucket, err)
	}
	if lock != "Enabled" {
		return fmt.Errorf("%w: %q has no object lock", ErrBucket, s.cfg.Bucket)
	}
	return nil
}

// isNotFound reports whether err is S3's "no such key/version".
func isNotFound(err error) bool {
	code := minio.ToErrorResponse(err).Code
	return code == "NoSuchKey" || code == "NoSuchVersion" || code == "NotFound"
}
