package spool

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
)

// ChunkSize is the most plaintext one chunk holds.
const ChunkSize = 64 << 10

const (
	magic        = "TVSPOOL1"
	keySize      = 32
	maxSealedKey = 256
	tagSize      = 16
	chunkHdrSize = 4
	finalBit     = 1 << 31
	maxCipherLen = ChunkSize + tagSize
)

// Errors from readers. Neither carries plaintext or key bytes.
var (
	// ErrFormat: not a spool file, or its data key does not open.
	ErrFormat = errors.New("spool: not a spool file or key does not open it")
	// ErrCorrupt: a chunk is malformed, tampered or out of order.
	ErrCorrupt = errors.New("spool: corrupt chunk")
	// ErrClosed: write after Close.
	ErrClosed = errors.New("spool: closed")
)

// keyAAD binds the sealed data key to the spool format.
var keyAAD = []byte(magic)

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// nonce is the chunk index, big-endian, in the last 8 of 12 bytes.
func nonce(dst *[12]byte, index uint64) []byte {
	*dst = [12]byte{}
	binary.BigEndian.PutUint64(dst[4:], index)
	return dst[:]
}

// aad is the chunk index and final flag.
func aad(dst *[9]byte, index uint64, final bool) []byte {
	binary.BigEndian.PutUint64(dst[:8], index)
	dst[8] = 0
	if final {
		dst[8] = 1
	}
	return dst[:]
}
