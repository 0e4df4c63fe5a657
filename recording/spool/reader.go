package spool

import (
	"context"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/televisit/televisit/internal/sealbox"
)

// Reader decrypts a spool sequentially. By default it returns the readable
// prefix and io.EOF at the end of the file, dropping a torn final chunk;
// Complete tells whether the writer closed the spool. In follow mode
// (Follow) it waits for the writer instead, until the final chunk.
type Reader struct {
	src    io.ReaderAt
	file   *os.File // when opened by Open
	aead   cipher.AEAD
	off    int64
	index  uint64
	plain  []byte // decrypted, not yet returned
	buf    []byte // ciphertext scratch
	final  bool
	ctx    context.Context
	poll   time.Duration
	follow bool
}

// Open opens the spool file at path for reading.
func Open(path string, ring *sealbox.Keyring) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("spool: open: %w", err)
	}
	r, err := NewReader(f, ring)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.file = f
	return r, nil
}

// NewReader reads a spool from src, which may still be growing.
func NewReader(src io.ReaderAt, ring *sealbox.Keyring) (*Reader, error) {
	var hdr [len(magic) + 2]byte
	if _, err := src.ReadAt(hdr[:], 0); err != nil || string(hdr[:len(magic)]) != magic {
		return nil, ErrFormat
	}
	n := int(binary.BigEndian.Uint16(hdr[len(magic):]))
	if n == 0 || n > maxSealedKey {
		return nil, ErrFormat
	}
	sealed := make([]byte, n)
	if _, err := src.ReadAt(sealed, int64(len(hdr))); err != nil {
		return nil, ErrFormat
	}
	key, err := ring.Open(sealed, keyAAD)
	if err != nil || len(key) != keySize {
		return nil, fmt.Errorf("%w (data key: %w)", ErrFormat, err)
	}
	aead, err := newGCM(key)
	if err != nil {
		return nil, ErrFormat
	}
	return &Reader{src: src, aead: aead, off: int64(len(hdr) + n), buf: make([]byte, maxCipherLen)}, nil
}

// Follow makes the reader wait for more chunks (polling every poll) when
// it reaches the end of a spool that is not closed yet, until the final
// chunk or until ctx ends (Read then returns ctx's error).
func (r *Reader) Follow(ctx context.Context, poll time.Duration) {
	r.ctx, r.poll, r.follow = ctx, poll, true
}

// Complete reports whether the final chunk has been read: the writer closed
// the spool and nothing is missing.
func (r *Reader) Complete() bool { return r.final }

// Offset is the number of file bytes consumed so far.
func (r *Reader) Offset() int64 { return r.off }

// Read implements io.Reader over the plaintext.
func (r *Reader) Read(p []byte) (int, error) {
	for len(r.plain) == 0 {
		if r.final {
			return 0, io.EOF
		}
		ok, err := r.next()
		if err != nil {
			return 0, err
		}
		if !ok && !r.follow {
			return 0, io.EOF
		}
		if !ok {
			if err := r.wait(); err != nil {
				return 0, err
			}
		}
	}
	n := copy(p, r.plain)
	r.plain = r.plain[n:]
	return n, nil
}

// next decrypts the chunk at r.off; ok is false when the file ends before
// the chunk does (not written yet, or torn by a crash).
func (r *Reader) next() (ok bool, err error) {
	var hdr [chunkHdrSize]byte
	if n, err := r.src.ReadAt(hdr[:], r.off); n < chunkHdrSize {
		return false, readErr(err)
	}
	word := binary.BigEndian.Uint32(hdr[:])
	final, clen := word&finalBit != 0, int(word&^finalBit)
	if clen < tagSize || clen > maxCipherLen {
		return false, fmt.Errorf("%w: chunk %d has bad length", ErrCorrupt, r.index)
	}
	ct := r.buf[:clen]
	if n, err := r.src.ReadAt(ct, r.off+chunkHdrSize); n < clen {
		return false, readErr(err)
	}
	var nb [12]byte
	var ab [9]byte
	plain, err := r.aead.Open(ct[:0], nonce(&nb, r.index), ct, aad(&ab, r.index, final))
	if err != nil {
		return false, fmt.Errorf("%w: chunk %d does not open", ErrCorrupt, r.index)
	}
	r.plain, r.final = plain, final
	r.off += int64(chunkHdrSize + clen)
	r.index++
	return true, nil
}

// readErr passes on real I/O errors; a short read at the end is not one.
func readErr(err error) error {
	if err == nil || errors.Is(err, io.EOF) {
		return nil
	}
	return fmt.Errorf("spool: read: %w", err)
}

func (r *Reader) wait() error {
	t := time.NewTimer(r.poll)
	defer t.Stop()
	select {
	case <-r.ctx.Done():
		return r.ctx.Err()
	case <-t.C:
		return nil
	}
}

// Close closes the file when the reader was made by Open.
func (r *Reader) Close() error {
	if r.file == nil {
		return nil
	}
	return r.file.Close()
}
