package ehr

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"testing"
	"time"

	"github.com/televisit/televisit/internal/syncbuf"
)

const (
	visitSystem = "urn:televisit:test:visit"
	noteSystem  = "urn:televisit:test:note-version"
	secretNote  = "Patient reports chest pain since Tuesday; plan: ECG."
)

// testLogger logs at debug level into a buffer that tests check for PHI.
func testLogger() (*slog.Logger, *syncbuf.Buffer) {
	buf := &syncbuf.Buffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// rawResource sends a hand-written resource body (for Patient and
// Practitioner, which we never build, and for invalid resources).
type rawResource struct {
	typ  string
	body json.RawMessage
}

func (r rawResource) FHIRType() string             { return r.typ }
func (r rawResource) MarshalJSON() ([]byte, error) { return r.body, nil }

func rsaKeyPEM(t *testing.T, bits int) []byte {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
}

func ecKeyPEM(t *testing.T, curve elliptic.Curve) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}
