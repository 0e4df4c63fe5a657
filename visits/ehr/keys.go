package ehr

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"

	jose "github.com/go-jose/go-jose/v4"
)

const minRSABits = 2048

// signingKey is our private key with its JOSE algorithm and key id.
type signingKey struct {
	key crypto.Signer
	alg jose.SignatureAlgorithm
	kid string
}

// parseSigningKey reads one PEM private key: RSA (PKCS#1 or PKCS#8, at
// least 2048 bits) signs RS384, ECDSA P-384 (SEC 1 or PKCS#8) signs ES384.
// An empty kid becomes the key's RFC 7638 thumbprint.
func parseSigningKey(pemData []byte, kid string) (*signingKey, error) {
	block, _ := pem.Decode(pemData)
	if block == nil {
		return nil, &InputError{Field: "Key", Reason: "no PEM block"}
	}
	raw, err := parsePrivateKey(block)
	if err != nil {
		return nil, &InputError{Field: "Key", Reason: "not a PKCS#1, PKCS#8 or SEC 1 private key"}
	}
	k := &signingKey{kid: kid}
	switch key := raw.(type) {
	case *rsa.PrivateKey:
		if key.N.BitLen() < minRSABits {
			return nil, &InputError{Field: "Key", Reason: "RSA key shorter than 2048 bits"}
		}
		k.key, k.alg = key, jose.RS384
	case *ecdsa.PrivateKey:
		if key.Curve != elliptic.P384() {
			return nil, &InputError{Field: "Key", Reason: "ECDSA key must be on P-384 for ES384"}
		}
		k.key, k.alg = key, jose.ES384
	default:
		return nil, &InputError{Field: "Key", Reason: "only RSA and ECDSA P-384 keys are supported"}
	}
	if k.kid == "" {
		pub := k.publicJWK()
		tp, err := pub.Thumbprint(crypto.SHA256)
		if err != nil {
			return nil, &InputError{Field: "Key", Reason: "thumbprint: " + err.Error()}
		}
		k.kid = base64.RawURLEncoding.EncodeToString(tp)
	}
	return k, nil
}

func parsePrivateKey(block *pem.Block) (any, error) {
	switch block.Type {
	case "RSA PRIVATE KEY":
		return x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		return x509.ParseECPrivateKey(block.Bytes)
	default:
		return x509.ParsePKCS8PrivateKey(block.Bytes)
	}
}

// publicJWK is the public half as published in our JWKS.
func (k *signingKey) publicJWK() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.key.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"}
}
