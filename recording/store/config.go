package store

import (
	"errors"
	"fmt"
	"net"
	"strings"
)

// SSE modes.
const (
	SSEKMS = "kms" // SSE-KMS with Config.KMSKeyID
	SSES3  = "s3"  // SSE-S3, keys managed by the store
)

// Retention modes (S3 object lock).
const (
	Governance = "GOVERNANCE" // privileged users may shorten or bypass it
	Compliance = "COMPLIANCE" // nobody can shorten it, not even root
)

// Part size bounds. S3 needs at least 5 MiB per part (but the last); the
// upper bound keeps one recording's upload buffer well under 32 MiB.
const (
	MinPartSize     = 5 << 20
	MaxPartSize     = 16 << 20
	DefaultPartSize = 5 << 20
)

// Config configures the object store. Zero values of PartSize, Region and
// MaxRetries take defaults.
type Config struct {
	// Endpoint is host[:port] of the S3 service, without scheme. TLS is
	// always on.
	Endpoint string `yaml:"endpoint"`
	// Region defaults to us-east-1.
	Region string `yaml:"region"`
	// Bucket holds the recordings; it must have object lock enabled.
	Bucket string `yaml:"bucket"`
	// AccessKey and SecretKey are the credentials (from configuration or
	// secret storage, never logged).
	AccessKey string `yaml:"access_key"`
	SecretKey string `yaml:"secret_key"`
	// CAFile optionally names a PEM file of CAs to trust instead of the
	// system roots (a private S3 service).
	CAFile string `yaml:"ca_file"`
	// SSE is SSEKMS or SSES3.
	SSE string `yaml:"sse"`
	// KMSKeyID is the key for SSE-KMS; empty for SSE-S3.
	KMSKeyID string `yaml:"kms_key_id"`
	// RetentionMode is Governance or Compliance.
	RetentionMode string `yaml:"retention_mode"`
	// RetentionDays is how long each object is locked after upload (>= 1).
	RetentionDays int `yaml:"retention_days"`
	// PartSize is the multipart part size in bytes (5-16 MiB, default 5 MiB).
	PartSize int64 `yaml:"part_size"`
	// MaxRetries bounds minio-go's own retries per request (default 3);
	// callers retry whole uploads from the spool on top of that.
	MaxRetries int `yaml:"max_retries"`
}

// String hides the secret key, so printing a Config is harmless.
func (c Config) String() string {
	return fmt.Sprintf("store.Config{endpoint: %q, bucket: %q, sse: %q, retention: %s %dd}",
		c.Endpoint, c.Bucket, c.SSE, c.RetentionMode, c.RetentionDays)
}

// GoString is String, for %#v.
func (c Config) GoString() string { return c.String() }

func (c *Config) setDefaults() {
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	if c.PartSize == 0 {
		c.PartSize = DefaultPartSize
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = 3
	}
}

// validate checks a Config with defaults applied.
func (c *Config) validate() error {
	var errs []error
	if c.Endpoint == "" || strings.Contains(c.Endpoint, "://") || strings.Contains(c.Endpoint, "/") {
		errs = append(errs, errors.New("endpoint must be host[:port] without scheme or path"))
	} else if _, _, err := net.SplitHostPort(c.Endpoint); err != nil && strings.Contains(c.Endpoint, ":") {
		errs = append(errs, errors.New("endpoint must be host[:port]"))
	}
	if c.Bucket == "" {
		errs = append(errs, errors.New("bucket is required"))
	}
	if c.AccessKey == "" || c.SecretKey == "" {
		errs = append(errs, errors.New("access key and secret key are required"))
	}
	errs = append(errs, c.validateSSE(), c.validateRetention())
	if c.PartSize < MinPartSize || c.PartSize > MaxPartSize {
		errs = append(errs, fmt.Errorf("part size must be %d-%d bytes", MinPartSize, MaxPartSize))
	}
	if c.MaxRetries < 1 || c.MaxRetries > 10 {
		errs = append(errs, errors.New("max retries must be 1-10"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return nil
}

func (c *Config) validateSSE() error {
	switch c.SSE {
	case SSEKMS:
		if c.KMSKeyID == "" {
			return errors.New(`sse "kms" needs kms_key_id`)
		}
	case SSES3:
		if c.KMSKeyID != "" {
			return errors.New(`sse "s3" takes no kms_key_id`)
		}
	default:
		return fmt.Errorf("sse must be %q or %q", SSEKMS, SSES3)
	}
	return nil
}

func (c *Config) validateRetention() error {
	if c.RetentionMode != Governance && c.RetentionMode != Compliance {
		return fmt.Errorf("retention mode must be %s or %s", Governance, Compliance)
	}
	if c.RetentionDays < 1 || c.RetentionDays > 36500 {
		return errors.New("retention days must be 1-36500")
	}
	return nil
}
