package recording_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/televisit/televisit/internal/miniotest"
)

// waitForPart waits until a multipart upload in bucket has at least one
// part stored: the upload is really under way.
func waitForPart(t testing.TB, srv *miniotest.Server, bucket string) {
	t.Helper()
	core, err := minio.NewCore(srv.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, ""),
		Secure: true, Transport: &http.Transport{TLSClientConfig: srv.TLSConfig()}, Region: miniotest.Region,
	})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		res, err := core.ListMultipartUploads(ctx, bucket, "", "", "", "", 10)
		for _, u := range res.Uploads {
			parts, perr := core.ListObjectParts(ctx, bucket, u.Key, u.UploadID, 0, 10)
			if perr == nil && len(parts.ObjectParts) > 0 {
				cancel()
				return
			}
		}
		cancel()
		if err != nil {
			t.Logf("list uploads: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("no part of the upload reached MinIO within a minute")
}
