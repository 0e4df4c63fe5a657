// Package sealbox encrypts small values (database columns) with AES-256-GCM
// under a key ring, so keys can be rotated without re-encrypting old data.
//
// A key ring holds one or more 256-bit keys, each with a short id. The first
// (current) key seals; every key in the ring opens. To rotate, put a new key
// first and keep the old ones after it until every value sealed under them
// has been re-sealed or has expired.
//
// A sealed value is laid out as
//
//	version (1 byte, = 1) | len(keyID) (1 byte) | keyID | nonce (12 bytes) | ciphertext | tag (16 bytes)
//
// The version byte and key id are authenticated together with the caller's
// additional data (AAD), which should name where the value lives (row id and
// column), so that a value copied to another row or column fails to open.
//
// Errors never contain plaintext or key bytes.
package sealbox
