package config

import (
	"strings"
	"testing"
)

func TestRecordingSection(t *testing.T) {
	full := []string{"TELEVISIT_RECORDING_ENDPOINT=s3.example.org", "TELEVISIT_RECORDING_BUCKET=rec",
		"TELEVISIT_RECORDING_ACCESS_KEY=ak", "TELEVISIT_RECORDING_SECRET_KEY=sk", "TELEVISIT_RECORDING_SSE=kms",
		"TELEVISIT_RECORDING_KMS_KEY_ID=k", "TELEVISIT_RECORDING_SPOOL_DIR=/var/spool/tv"}
	tests := []struct {
		name string
		env  []string
		want string // "" means valid
	}{
		{"absent: recording off", nil, ""},
		{"complete", full, ""},
		{"no bucket", append(full, "TELEVISIT_RECORDING_BUCKET="), "needs bucket"},
		{"kms without key", append(full, "TELEVISIT_RECORDING_KMS_KEY_ID="), `needs kms_key_id`},
		{"bad sse", append(full, "TELEVISIT_RECORDING_SSE=aes"), `sse must be`},
		{"scheme in endpoint", append(full, "TELEVISIT_RECORDING_ENDPOINT=https://s3.example.org"), "host[:port]"},
		{"bad retention", append(full, "TELEVISIT_RECORDING_RETENTION_MODE=forever"), "retention_mode"},
		{"part size", append(full, "TELEVISIT_RECORDING_PART_SIZE_MIB=64"), "part_size_mib"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(Source{Environ: append(complete(), tt.env...)})
			if err != nil {
				t.Fatal(err)
			}
			err = cfg.Validate(ForServe)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate: %v; want an error containing %q", err, tt.want)
			}
			if tt.want == "" && cfg.Recording.Enabled() {
				d := cfg.Recording.WithDefaults()
				if d.RetentionDays != 2190 || d.RetentionMode != "GOVERNANCE" || d.PartSizeMiB != 5 || d.Region != "us-east-1" {
					t.Fatalf("defaults: %+v", d)
				}
				if strings.Contains(cfg.Recording.SecretKey.String(), "sk") {
					t.Fatal("the secret key prints")
				}
			}
		})
	}
}
