package spool

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
)

// FuzzReader feeds arbitrary files (outside input: whatever is on disk) to
// the reader: it must never panic, and must fail only with its typed
// errors.
func FuzzReader(f *testing.F) {
	ring := testRing(f, "k1")
	for _, size := range []int{0, 10, ChunkSize + 3} {
		path := writeSpool(f, ring, bytes.Repeat([]byte{7}, size), 1000, 2, false)
		raw, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
		f.Add(raw[:len(raw)/2])
	}
	f.Add([]byte(magic + "\x00\x01x"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data), ring)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("untyped header error %v", err)
			}
			return
		}
		n, err := io.Copy(io.Discard, r)
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("untyped error %v", err)
		}
		if n > int64(len(data)) {
			t.Fatalf("read %d plaintext bytes from %d file bytes", n, len(data))
		}
	})
}
