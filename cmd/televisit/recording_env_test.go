package main

import (
	"context"
	"testing"

	"github.com/televisit/televisit/internal/miniotest"
	"github.com/televisit/televisit/recording/store"
)

const recordingBucket = "recordings"

// recordingMinIO starts a real MinIO (TLS, KMS) with the recordings bucket
// (object lock, governance retention of a day) and returns its store
// configuration.
func recordingMinIO(t *testing.T) (*miniotest.Server, store.Config) {
	t.Helper()
	mio := miniotest.Start(t)
	sc := store.Config{Endpoint: mio.Endpoint, Region: miniotest.Region, Bucket: recordingBucket, AccessKey: mio.AccessKey,
		SecretKey: mio.SecretKey, CAFile: mio.CAFile, SSE: store.SSEKMS, KMSKeyID: miniotest.KMSKeyName,
		RetentionMode: store.Governance, RetentionDays: 1}
	if err := store.CreateBucket(context.Background(), sc); err != nil {
		t.Fatal(err)
	}
	return mio, sc
}

// recordingEnv is the recording section of `televisit serve` for mio's
// bucket, spooling in spoolDir.
func recordingEnv(mio *miniotest.Server, spoolDir string) []string {
	return []string{
		"TELEVISIT_RECORDING_ENDPOINT=" + mio.Endpoint, "TELEVISIT_RECORDING_REGION=" + miniotest.Region,
		"TELEVISIT_RECORDING_BUCKET=" + recordingBucket, "TELEVISIT_RECORDING_ACCESS_KEY=" + mio.AccessKey,
		"TELEVISIT_RECORDING_SECRET_KEY=" + mio.SecretKey, "TELEVISIT_RECORDING_CA_FILE=" + mio.CAFile,
		"TELEVISIT_RECORDING_SSE=kms", "TELEVISIT_RECORDING_KMS_KEY_ID=" + miniotest.KMSKeyName,
		"TELEVISIT_RECORDING_RETENTION_DAYS=1", "TELEVISIT_RECORDING_SPOOL_DIR=" + spoolDir,
	}
}
