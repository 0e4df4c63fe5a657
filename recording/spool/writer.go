package spool

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/televisit/televisit/internal/sealbox"
)

// Writer appends encrypted chunks to a spool file. It is safe for
// concurrent use (a muxer goroutine writes while a timer calls Sync).
type Writer struct {
	mu     sync.Mutex
	f      *os.File
	aead   cipher.AEAD
	buf    []byte // pending plaintext, cap ChunkSize
	out    []byte // sealed chunk scratch
	index  uint64
	size   int64 // plaintext bytes accepted
	closed bool
	err    error // sticky write error
}

// Create makes a new spool file at path (it must not exist), with a fresh
// data key sealed under ring's current key. The header and the directory
// entry are synced before Create returns.
func Create(path string, ring *sealbox.Keyring) (*Writer, error) {
	dataKey := make([]byte, keySize)
	if _, err := rand.Read(dataKey); err != nil {
		return nil, fmt.Errorf("spool: data key: %w", err)
	}
	aead, err := newGCM(dataKey)
	if err != nil {
		return nil, fmt.Errorf("spool: cipher: %w", err)
	}
	sealed, err := ring.Seal(dataKey, keyAAD)
	if err != nil {
		return nil, fmt.Errorf("spool: seal data key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("spool: create: %w", err)
	}
	w := &Writer{f: f, aead: aead, buf: make([]byte, 0, ChunkSize),
		out: make([]byte, chunkHdrSize, chunkHdrSize+maxCipherLen)}
	if err := w.writeHeader(sealed, path); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	return w, nil
}

func (w *Writer) writeHeader(sealed []byte, path string) error {
	hdr := make([]byte, 0, len(magic)+2+len(sealed))
	hdr = append(hdr, magic...)
	hdr = binary.BigEndian.AppendUint16(hdr, uint16(len(sealed)))
	hdr = append(hdr, sealed...)
	if _, err := w.f.Write(hdr); err != nil {
		return fmt.Errorf("spool: write header: %w", err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("spool: sync header: %w", err)
	}
	return syncDir(filepath.Dir(path))
}

// Write buffers p and appends every full chunk to the file.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return 0, err
	}
	n := 0
	for len(p) > 0 {
		k := min(len(p), ChunkSize-len(w.buf))
		w.buf = append(w.buf, p[:k]...)
		p, n = p[k:], n+k
		if len(w.buf) == ChunkSize {
			if err := w.seal(false); err != nil {
				return n, err
			}
		}
	}
	w.size += int64(n)
	return n, nil
}

// Flush seals the pending plaintext (if any) as a chunk, so a reader and a
// crash see it, without fsync.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return err
	}
	if len(w.buf) == 0 {
		return nil
	}
	return w.seal(false)
}

// Sync is Flush followed by fsync.
func (w *Writer) Sync() error {
	if err := w.Flush(); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return err
	}
	if err := w.f.Sync(); err != nil {
		w.err = fmt.Errorf("spool: sync: %w", err)
	}
	return w.err
}

// Size is the number of plaintext bytes written so far.
func (w *Writer) Size() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.size
}

// Close seals the pending plaintext as the final chunk, fsyncs and closes
// the file. It is idempotent.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return w.err
	}
	w.closed = true
	err := w.err
	if err == nil {
		err = w.seal(true)
	}
	if err == nil {
		if serr := w.f.Sync(); serr != nil {
			err = fmt.Errorf("spool: sync: %w", serr)
		}
	}
	if cerr := w.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("spool: close: %w", cerr)
	}
	return err
}

func (w *Writer) usable() error {
	if w.closed {
		return ErrClosed
	}
	return w.err
}

// seal encrypts w.buf as chunk w.index and appends it in one write.
func (w *Writer) seal(final bool) error {
	var nb [12]byte
	var ab [9]byte
	out := w.aead.Seal(w.out[:chunkHdrSize], nonce(&nb, w.index), w.buf, aad(&ab, w.index, final))
	n := uint32(len(out) - chunkHdrSize)
	if final {
		n |= finalBit
	}
	binary.BigEndian.PutUint32(out, n)
	if _, err := w.f.Write(out); err != nil {
		w.err = fmt.Errorf("spool: write chunk %d: %w", w.index, err)
		return w.err
	}
	w.index++
	w.buf = w.buf[:0]
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("spool: open dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("spool: sync dir: %w", err)
	}
	return nil
}
