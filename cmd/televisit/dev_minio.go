package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/televisit/televisit/internal/config"
	"github.com/televisit/televisit/recording/store"
)

const devKMSKey = "televisit-dev"

// minioBinary finds a MinIO server: $MINIO_BIN, the one `make deps`
// builds, or minio on PATH. "" when there is none.
func minioBinary() string {
	cands := []string{os.Getenv("MINIO_BIN")}
	cache := os.Getenv("XDG_CACHE_HOME")
	if home, err := os.UserHomeDir(); cache == "" && err == nil {
		cache = filepath.Join(home, ".cache")
	}
	if cache != "" {
		cands = append(cands, filepath.Join(cache, "televisit", "bin", "minio"))
	}
	if p, err := exec.LookPath("minio"); err == nil {
		cands = append(cands, p)
	}
	for _, c := range cands {
		if fi, err := os.Stat(c); c != "" && err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return c
		}
	}
	return ""
}

// startMinIO runs a local MinIO (TLS, a KMS key) under DATA-DIR/minio for
// recordings. Without a MinIO binary, recording is off in dev (there is
// no fake S3): the returned section is empty.
func (e *devEnv) startMinIO(ctx context.Context) (config.Recording, error) {
	bin := minioBinary()
	if bin == "" {
		e.log.Warn("recording is OFF in dev: no MinIO server binary (set MINIO_BIN, run make deps, or put minio on PATH)")
		return config.Recording{}, nil
	}
	dir := filepath.Join(e.opts.dataDir, "minio")
	secrets, err := devMinIOSecrets(dir)
	if err != nil {
		return config.Recording{}, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return config.Recording{}, err
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "server", "--quiet", "--address", addr, "--certs-dir", filepath.Join(dir, "certs"), filepath.Join(dir, "data"))
	cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+secrets[0], "MINIO_ROOT_PASSWORD="+secrets[1],
		"MINIO_KMS_SECRET_KEY="+devKMSKey+":"+secrets[2], "MINIO_BROWSER=off", "MINIO_UPDATE=off")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return config.Recording{}, fmt.Errorf("start minio: %w", err)
	}
	e.closers = append(e.closers, func(context.Context) error {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_, _ = cmd.Process.Wait()
		return nil
	})
	rc := config.Recording{Endpoint: addr, Region: "us-east-1", Bucket: "recordings", AccessKey: config.Secret(secrets[0]),
		SecretKey: config.Secret(secrets[1]), CAFile: filepath.Join(dir, "certs", "public.crt"), SSE: "kms", KMSKeyID: devKMSKey,
		RetentionMode: "GOVERNANCE", RetentionDays: 1, SpoolDir: filepath.Join(dir, "spool"), PartSizeMiB: 5}
	if err := waitBucket(ctx, rc); err != nil {
		return config.Recording{}, err
	}
	e.log.Info("recording is on in dev: local MinIO", "endpoint", addr, "dir", dir)
	return rc, nil
}

// waitBucket creates the bucket (object lock on) once MinIO answers.
func waitBucket(ctx context.Context, rc config.Recording) error {
	sc := store.Config{Endpoint: rc.Endpoint, Region: rc.Region, Bucket: rc.Bucket, AccessKey: rc.AccessKey.Value(),
		SecretKey: rc.SecretKey.Value(), CAFile: rc.CAFile, SSE: store.SSEKMS, KMSKeyID: rc.KMSKeyID,
		RetentionMode: store.Governance, RetentionDays: 1}
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		err = store.CreateBucket(cctx, sc)
		cancel()
		if err == nil || ctx.Err() != nil {
			return err
		}
	}
	return fmt.Errorf("minio did not start: %w", err)
}

// devMinIOSecrets returns the root user, password and KMS key kept in dir
// (made on first use), after making sure the TLS certificate exists.
func devMinIOSecrets(dir string) ([3]string, error) {
	var out [3]string
	for _, d := range []string{filepath.Join(dir, "certs"), filepath.Join(dir, "data"), filepath.Join(dir, "spool")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return out, err
		}
	}
	path := filepath.Join(dir, "secrets")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		r := make([]byte, 16+24+32)
		if _, err := rand.Read(r); err != nil {
			return out, err
		}
		b = []byte(hex.EncodeToString(r[:16]) + "\n" + hex.EncodeToString(r[16:40]) + "\n" + base64.StdEncoding.EncodeToString(r[40:]))
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return out, err
		}
	} else if err != nil {
		return out, err
	}
	n, _ := fmt.Sscan(string(b), &out[0], &out[1], &out[2])
	if n != 3 {
		return out, fmt.Errorf("%s is damaged: run with --fresh or delete it", path)
	}
	return out, devCert(filepath.Join(dir, "certs"))
}

// devCert writes a self-signed certificate for 127.0.0.1 unless one is there.
func devCert(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "public.crt")); err == nil {
		return nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "televisit dev minio"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(5, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "private.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "public.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
}
