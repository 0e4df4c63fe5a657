package spool

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/televisit/televisit/internal/sealbox"
)

func testRing(t testing.TB, id string) *sealbox.Keyring {
	t.Helper()
	spec, err := sealbox.GenerateSpec(id)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := sealbox.ParseKeyring(spec)
	if err != nil {
		t.Fatal(err)
	}
	return ring
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// writeSpool writes data in pieces of step bytes, flushing every flushEvery
// pieces (0: never), and closes the spool unless open is set.
func writeSpool(t testing.TB, ring *sealbox.Keyring, data []byte, step, flushEvery int, open bool) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rec.spool")
	w, err := Create(path, ring)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; len(data) > 0; i++ {
		k := min(step, len(data))
		if n, err := w.Write(data[:k]); err != nil || n != k {
			t.Fatalf("write: %d, %v", n, err)
		}
		data = data[k:]
		if flushEvery > 0 && i%flushEvery == 0 {
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if open {
		if err := w.Sync(); err != nil {
			t.Fatal(err)
		}
		return path
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func readAll(t testing.TB, path string, ring *sealbox.Keyring) ([]byte, bool, error) {
	t.Helper()
	r, err := Open(path, ring)
	if err != nil {
		return nil, false, err
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	return got, r.Complete(), err
}

func TestRoundTrip(t *testing.T) {
	ring := testRing(t, "k1")
	for _, tc := range []struct {
		name              string
		size, step, flush int
	}{
		{"empty", 0, 1, 0},
		{"small", 100, 7, 0},
		{"exact chunk", ChunkSize, 1000, 0},
		{"two chunks and a bit", 2*ChunkSize + 5, 4096, 0},
		{"flushed often", 300_000, 1500, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := randomBytes(t, tc.size)
			path := writeSpool(t, ring, data, tc.step, tc.flush, false)
			got, complete, err := readAll(t, path, ring)
			if err != nil || !complete || !bytes.Equal(got, data) {
				t.Fatalf("read %d bytes, complete %v, err %v; want %d bytes", len(got), complete, err, len(data))
			}
			raw, _ := os.ReadFile(path)
			if tc.size >= 16 && bytes.Contains(raw, data[:16]) {
				t.Fatal("plaintext visible in the spool file")
			}
		})
	}
}

func TestTruncatedTailLeavesPrefix(t *testing.T) {
	ring := testRing(t, "k1")
	data := randomBytes(t, 3*ChunkSize+100)
	path := writeSpool(t, ring, data, 10_000, 0, false)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Cut inside the last chunk at several places: the three full chunks
	// before it stay readable, and the spool is reported incomplete.
	lastChunk := int64(len(raw)) - (chunkHdrSize + 100 + tagSize)
	for _, cut := range []int64{lastChunk, lastChunk + 2, lastChunk + chunkHdrSize + 50, int64(len(raw)) - 1} {
		if err := os.WriteFile(path, raw[:cut], 0o600); err != nil {
			t.Fatal(err)
		}
		got, complete, err := readAll(t, path, ring)
		if err != nil || complete || !bytes.Equal(got, data[:3*ChunkSize]) {
			t.Fatalf("cut at %d: %d bytes, complete %v, err %v", cut, len(got), complete, err)
		}
	}
}

func TestUnclosedSpoolReadsWhatWasFlushed(t *testing.T) {
	ring := testRing(t, "k1")
	data := randomBytes(t, 1000)
	path := writeSpool(t, ring, data, 100, 1, true)
	got, complete, err := readAll(t, path, ring)
	if err != nil || complete || !bytes.Equal(got, data) {
		t.Fatalf("%d bytes, complete %v, err %v", len(got), complete, err)
	}
}

func TestTamperingDetected(t *testing.T) {
	ring := testRing(t, "k1")
	data := randomBytes(t, 2*ChunkSize+10)
	path := writeSpool(t, ring, data, 5000, 0, false)
	raw, _ := os.ReadFile(path)
	hdrLen := len(magic) + 2 + int(binary.BigEndian.Uint16(raw[len(magic):]))
	chunkLen := chunkHdrSize + ChunkSize + tagSize
	first, second := raw[hdrLen:hdrLen+chunkLen], raw[hdrLen+chunkLen:hdrLen+2*chunkLen]

	flipped := bytes.Clone(raw)
	flipped[hdrLen+100] ^= 1
	swapped := append(append(append(bytes.Clone(raw[:hdrLen]), second...), first...), raw[hdrLen+2*chunkLen:]...)
	dropped := append(bytes.Clone(raw[:hdrLen]), raw[hdrLen+chunkLen:]...)
	unfinal := bytes.Clone(raw)
	lastHdr := len(raw) - (chunkHdrSize + 10 + tagSize)
	unfinal[lastHdr] &^= 0x80 // clear the final flag

	for name, bad := range map[string][]byte{"bit flip": flipped, "swapped": swapped, "dropped": dropped, "final flag cleared": unfinal} {
		if err := os.WriteFile(path, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, _, err := readAll(t, path, ring); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err %v, want ErrCorrupt", name, err)
		}
	}
}

func TestWrongKeyAndNotASpool(t *testing.T) {
	path := writeSpool(t, testRing(t, "k1"), []byte("x"), 1, 0, false)
	if _, err := Open(path, testRing(t, "k1")); !errors.Is(err, ErrFormat) {
		t.Fatalf("other key with same id: %v, want ErrFormat", err)
	}
	if _, err := Open(path, testRing(t, "k2")); !errors.Is(err, ErrFormat) {
		t.Fatalf("unknown key id: %v, want ErrFormat", err)
	}
	other := filepath.Join(t.TempDir(), "x")
	os.WriteFile(other, []byte("hello, not a spool"), 0o600)
	if _, err := Open(other, testRing(t, "k1")); !errors.Is(err, ErrFormat) {
		t.Fatalf("garbage: %v, want ErrFormat", err)
	}
}

func TestWriteAfterCloseAndExisting(t *testing.T) {
	ring := testRing(t, "k1")
	path := filepath.Join(t.TempDir(), "s")
	w, err := Create(path, ring)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := w.Write([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
	if _, err := Create(path, ring); err == nil {
		t.Fatal("Create over an existing file succeeded")
	}
}

// TestFollowReadsWhileWriting reads a spool while another goroutine writes
// it, the way the uploader tails a recording.
func TestFollowReadsWhileWriting(t *testing.T) {
	ring := testRing(t, "k1")
	path := filepath.Join(t.TempDir(), "s")
	w, err := Create(path, ring)
	if err != nil {
		t.Fatal(err)
	}
	data := randomBytes(t, 500_000)
	go func() {
		for p := data; len(p) > 0; {
			k := min(7000, len(p))
			w.Write(p[:k])
			p = p[k:]
			w.Flush()
			time.Sleep(time.Millisecond)
		}
		w.Close()
	}()
	r, err := Open(path, ring)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r.Follow(ctx, 2*time.Millisecond)
	got, err := io.ReadAll(r)
	if err != nil || !r.Complete() || !bytes.Equal(got, data) {
		t.Fatalf("followed %d of %d bytes, complete %v, err %v", len(got), len(data), r.Complete(), err)
	}
}

func TestFollowStopsWithContext(t *testing.T) {
	ring := testRing(t, "k1")
	path := writeSpool(t, ring, []byte("abc"), 3, 1, true)
	r, err := Open(path, ring)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	r.Follow(ctx, 5*time.Millisecond)
	got, err := io.ReadAll(r)
	if !errors.Is(err, context.DeadlineExceeded) || string(got) != "abc" {
		t.Fatalf("got %q, %v", got, err)
	}
}
