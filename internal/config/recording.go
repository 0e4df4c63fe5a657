package config

import (
	"fmt"
	"strings"
)

// Recording is consent-gated recording to S3-compatible object storage.
// No endpoint: recording is unavailable (recording_request answers
// recording_unavailable).
type Recording struct {
	// Endpoint is host[:port] of the S3 service (TLS always).
	Endpoint string `yaml:"endpoint"`
	Region   string `yaml:"region"` // default us-east-1
	// Bucket must exist with object lock enabled.
	Bucket        string `yaml:"bucket"`
	AccessKey     Secret `yaml:"access_key"`
	AccessKeyFile string `yaml:"access_key_file"`
	SecretKey     Secret `yaml:"secret_key"`
	SecretKeyFile string `yaml:"secret_key_file"`
	// CAFile trusts a private CA for the S3 service.
	CAFile string `yaml:"ca_file"`
	// SSE is kms (with KMSKeyID) or s3.
	SSE      string `yaml:"sse"`
	KMSKeyID string `yaml:"kms_key_id"`
	// RetentionMode (GOVERNANCE or COMPLIANCE) and RetentionDays lock each
	// object; defaults GOVERNANCE and 2190 (six years).
	RetentionMode string `yaml:"retention_mode"`
	RetentionDays int    `yaml:"retention_days"`
	// SpoolDir holds the encrypted local spools (required with an
	// endpoint; private to this server, kept across restarts).
	SpoolDir string `yaml:"spool_dir"`
	// SpoolKey is a sealbox key ring for the spools; default the PHI key
	// ring.
	SpoolKey     Secret `yaml:"spool_key"`
	SpoolKeyFile string `yaml:"spool_key_file"`
	// PartSizeMiB is the multipart part size, 5-16 MiB (default 5): one
	// part buffer per recorded participant is held in memory.
	PartSizeMiB int `yaml:"part_size_mib"`
}

// Enabled reports whether recording is configured.
func (r Recording) Enabled() bool { return r.Endpoint != "" }

// WithDefaults fills the optional settings.
func (r Recording) WithDefaults() Recording {
	if r.Region == "" {
		r.Region = "us-east-1"
	}
	if r.RetentionMode == "" {
		r.RetentionMode = "GOVERNANCE"
	}
	if r.RetentionDays == 0 {
		r.RetentionDays = 6 * 365
	}
	if r.PartSizeMiB == 0 {
		r.PartSizeMiB = 5
	}
	return r
}

func (c *Config) checkRecording() []error {
	if !c.Recording.Enabled() {
		return nil
	}
	r := c.Recording.WithDefaults()
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("config: recording."+format, args...))
	}
	if strings.Contains(r.Endpoint, "/") {
		bad("endpoint must be host[:port] without scheme or path")
	}
	if r.Bucket == "" || r.AccessKey == "" || r.SecretKey == "" || r.SpoolDir == "" {
		bad("endpoint needs bucket, access_key, secret_key and spool_dir")
	}
	switch {
	case r.SSE == "kms" && r.KMSKeyID == "":
		bad(`sse "kms" needs kms_key_id`)
	case r.SSE == "s3" && r.KMSKeyID != "":
		bad(`sse "s3" takes no kms_key_id`)
	case r.SSE != "kms" && r.SSE != "s3":
		bad(`sse must be "kms" or "s3"`)
	}
	if r.RetentionMode != "GOVERNANCE" && r.RetentionMode != "COMPLIANCE" {
		bad("retention_mode must be GOVERNANCE or COMPLIANCE")
	}
	if r.RetentionDays < 1 || r.RetentionDays > 36500 {
		bad("retention_days must be 1-36500")
	}
	if r.PartSizeMiB < 5 || r.PartSizeMiB > 16 {
		bad("part_size_mib must be 5-16")
	}
	return errs
}
