package sealbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of every key in bytes (AES-256).
const KeySize = 32

const maxIDLen = 32

// Keyring is an immutable set of keys; the current one seals, all of them
// open. It is safe for concurrent use.
type Keyring struct {
	current string
	aeads   map[string]cipher.AEAD
}

// NewKeyring builds a ring from raw keys; currentID names the key that seals
// and must be in keys. The key slices are not retained.
func NewKeyring(currentID string, keys map[string][]byte) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("sealbox: key ring is empty")
	}
	k := &Keyring{current: currentID, aeads: make(map[string]cipher.AEAD, len(keys))}
	for id, key := range keys {
		if !validID(id) {
			return nil, errors.New("sealbox: key id must be 1-32 characters of [a-zA-Z0-9_-]")
		}
		aead, err := newAEAD(key)
		if err != nil {
			return nil, fmt.Errorf("sealbox: key %q: %w", id, err)
		}
		k.aeads[id] = aead
	}
	if _, ok := k.aeads[currentID]; !ok {
		return nil, errors.New("sealbox: current key id is not in the ring")
	}
	return k, nil
}

// ParseKeyring reads "id1:BASE64KEY,id2:BASE64KEY". The first key is the
// current one. Keys are 32 bytes in standard or unpadded URL-safe base64;
// spaces around entries are ignored. Errors name the entry (1-based) and the
// problem, never the key material.
func ParseKeyring(spec string) (*Keyring, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, errors.New("sealbox: key ring spec is empty")
	}
	var k *Keyring
	for i, entry := range strings.Split(spec, ",") {
		id, key, err := parseEntry(strings.TrimSpace(entry))
		if err != nil {
			return nil, fmt.Errorf("sealbox: key ring entry %d: %w", i+1, err)
		}
		if k == nil {
			k = &Keyring{current: id, aeads: make(map[string]cipher.AEAD)}
		}
		if _, dup := k.aeads[id]; dup {
			return nil, fmt.Errorf("sealbox: key ring entry %d: duplicate key id %q", i+1, id)
		}
		aead, err := newAEAD(key)
		if err != nil {
			return nil, fmt.Errorf("sealbox: key ring entry %d: %w", i+1, err)
		}
		k.aeads[id] = aead
	}
	return k, nil
}

func parseEntry(entry string) (id string, key []byte, err error) {
	id, b64, ok := strings.Cut(entry, ":")
	if !ok {
		return "", nil, errors.New(`want "id:base64key"`)
	}
	if !validID(id) {
		return "", nil, errors.New("key id must be 1-32 characters of [a-zA-Z0-9_-]")
	}
	key, err = decodeKey(b64)
	if err != nil {
		return "", nil, err
	}
	return id, key, nil
}

// decodeKey accepts standard (padded) or unpadded URL-safe base64. Its errors
// never quote the input: the base64 decoders' own errors name only an offset,
// but we do not rely on that.
func decodeKey(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("key is empty")
	}
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		key, err = base64.RawURLEncoding.DecodeString(s)
	}
	if err != nil {
		return nil, errors.New("key is not valid base64 (standard or unpadded URL-safe)")
	}
	return key, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, errors.New("cannot create cipher")
	}
	return cipher.NewGCM(block)
}

func validID(id string) bool {
	if len(id) == 0 || len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}

// CurrentID is the id of the key that seals.
func (k *Keyring) CurrentID() string { return k.current }

// String describes the ring without key material, so that printing a config
// struct that holds one is harmless.
func (k *Keyring) String() string {
	return fmt.Sprintf("sealbox.Keyring{current: %q, keys: %d}", k.current, len(k.aeads))
}

// GoString is String, for %#v.
func (k *Keyring) GoString() string { return k.String() }

// GenerateSpec returns "id:base64(32 random bytes)", one ParseKeyring entry,
// for development and operations.
func GenerateSpec(id string) (string, error) {
	if !validID(id) {
		return "", errors.New("sealbox: key id must be 1-32 characters of [a-zA-Z0-9_-]")
	}
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("sealbox: random key: %w", err)
	}
	return id + ":" + base64.StdEncoding.EncodeToString(key), nil
}
