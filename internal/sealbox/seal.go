package sealbox

import (
	"crypto/rand"
	"errors"
	"fmt"
)

// Errors from Open. Neither carries plaintext or key bytes.
var (
	// ErrUnknownKey: the value was sealed under a key id the ring lacks.
	ErrUnknownKey = errors.New("sealbox: unknown key id")
	// ErrCorrupt: wrong additional data, tampered, truncated or an unknown
	// format version.
	ErrCorrupt = errors.New("sealbox: sealed value is corrupt or does not belong here")
)

const (
	version   byte = 1
	nonceSize      = 12
	tagSize        = 16
)

// Seal encrypts plaintext under the current key. aad is authenticated but not
// stored: Open needs the same aad.
func (k *Keyring) Seal(plaintext, aad []byte) ([]byte, error) {
	aead := k.aeads[k.current]
	hdr := header(k.current)
	out := make([]byte, len(hdr)+nonceSize, len(hdr)+nonceSize+len(plaintext)+aead.Overhead())
	copy(out, hdr)
	nonce := out[len(hdr):]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("sealbox: nonce: %w", err)
	}
	return aead.Seal(out, nonce, plaintext, additional(hdr, aad)), nil
}

// Open decrypts a value from Seal. It fails with ErrUnknownKey when the key
// id is not in the ring and with ErrCorrupt for anything else.
func (k *Keyring) Open(sealed, aad []byte) ([]byte, error) {
	if len(sealed) < 2 || sealed[0] != version {
		return nil, ErrCorrupt
	}
	idLen := int(sealed[1])
	if idLen == 0 || idLen > maxIDLen || len(sealed) < 2+idLen+nonceSize+tagSize {
		return nil, ErrCorrupt
	}
	hdr := sealed[:2+idLen]
	id := string(hdr[2:])
	aead, ok := k.aeads[id]
	if !ok {
		if !validID(id) {
			return nil, ErrCorrupt
		}
		return nil, fmt.Errorf("%w %q", ErrUnknownKey, id)
	}
	nonce := sealed[len(hdr) : len(hdr)+nonceSize]
	plain, err := aead.Open(nil, nonce, sealed[len(hdr)+nonceSize:], additional(hdr, aad))
	if err != nil {
		return nil, ErrCorrupt
	}
	return plain, nil
}

func header(id string) []byte {
	return append([]byte{version, byte(len(id))}, id...)
}

// additional binds the header (version and key id) to the caller's aad. The
// header is self-delimiting, so the concatenation is unambiguous.
func additional(hdr, aad []byte) []byte {
	return append(append(make([]byte, 0, len(hdr)+len(aad)), hdr...), aad...)
}
