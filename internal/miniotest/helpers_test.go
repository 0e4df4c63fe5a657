package miniotest

import (
	"fmt"
	"testing"

	"github.com/minio/minio-go/v7/pkg/encrypt"
)

func kmsSSE(t *testing.T) encrypt.ServerSide {
	sse, err := encrypt.NewSSEKMS(KMSKeyName, nil)
	if err != nil {
		t.Fatal(err)
	}
	return sse
}

// fatalRecorder records Fatalf and stops the calling function with a panic
// that the test recovers, instead of failing the real test.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(errFatal)
}

func (f *fatalRecorder) Helper() {}
