package recording

import (
	"crypto/sha256"
	"fmt"
	"hash"
	"io"

	"github.com/televisit/televisit/internal/sealbox"
	"github.com/televisit/televisit/recording/spool"
)

// hashReader hashes the bytes read through it.
type hashReader struct {
	r io.Reader
	h hash.Hash
}

func newHashReader(r io.Reader) *hashReader { return &hashReader{r: r, h: sha256.New()} }

func (h *hashReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	return n, err
}

// Sum is the SHA-256 of what was read so far.
func (h *hashReader) Sum() []byte { return h.h.Sum(nil) }

// spoolDigest is the SHA-256 and size of a spool's readable plaintext.
func spoolDigest(path string, ring *sealbox.Keyring) ([]byte, int64, error) {
	r, err := spool.Open(path, ring)
	if err != nil {
		return nil, 0, err
	}
	defer r.Close()
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return nil, 0, fmt.Errorf("recording: hash spool: %w", err)
	}
	return h.Sum(nil), n, nil
}
