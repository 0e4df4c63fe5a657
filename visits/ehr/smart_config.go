package ehr

import (
	"os"
	"strings"
	"time"
)

// SMARTConfig configures SMART Backend Services authentication.
type SMARTConfig struct {
	// ClientID is the client id the EHR assigned at registration.
	ClientID string
	// TokenURL is the EHR's token endpoint (https; http only on loopback).
	TokenURL string
	// KeyPEM is our private key (RSA >= 2048 bits for RS384 or ECDSA P-384
	// for ES384); or KeyFile names a file holding it. Exactly one is set,
	// from configuration or secrets, never from the repository.
	KeyPEM  []byte
	KeyFile string
	// KeyID is the kid published in our JWKS; default the RFC 7638
	// thumbprint of the key.
	KeyID string
	// Scope is the scope requested, e.g. "system/Encounter.write
	// system/DocumentReference.write system/Provenance.write".
	Scope string
	// Timeout bounds one token request. Default 30 s.
	Timeout time.Duration
	// RefreshBefore is how long before expiry a token is replaced. Default
	// 60 s, and never more than half the token's lifetime.
	RefreshBefore time.Duration
}

const defaultRefreshBefore = 60 * time.Second

func (c *SMARTConfig) withDefaults() SMARTConfig {
	out := *c
	if out.Timeout == 0 {
		out.Timeout = defaultTimeout
	}
	if out.RefreshBefore == 0 {
		out.RefreshBefore = defaultRefreshBefore
	}
	return out
}

func (c *SMARTConfig) validate() error {
	if c.ClientID == "" {
		return &InputError{Field: "ClientID", Reason: "empty"}
	}
	if err := validateEndpoint("TokenURL", c.TokenURL); err != nil {
		return err
	}
	if (len(c.KeyPEM) == 0) == (c.KeyFile == "") {
		return &InputError{Field: "KeyPEM/KeyFile", Reason: "set exactly one"}
	}
	if strings.TrimSpace(c.Scope) == "" {
		return &InputError{Field: "Scope", Reason: "empty"}
	}
	if c.Timeout < 0 || c.RefreshBefore < 0 {
		return &InputError{Field: "Timeout/RefreshBefore", Reason: "negative"}
	}
	return nil
}

// keyPEM returns the key from KeyPEM or KeyFile.
func (c *SMARTConfig) keyPEM() ([]byte, error) {
	if len(c.KeyPEM) > 0 {
		return c.KeyPEM, nil
	}
	data, err := os.ReadFile(c.KeyFile)
	if err != nil {
		return nil, &InputError{Field: "KeyFile", Reason: "cannot be read"}
	}
	return data, nil
}
