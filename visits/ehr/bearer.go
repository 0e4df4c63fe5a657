package ehr

import (
	"context"
	"net/http"
	"strings"
)

// BearerConfig is a static access token, for EHRs set up without SMART.
// The token comes from configuration (a secret file), never the repository.
type BearerConfig struct {
	Token string
}

func (c *BearerConfig) validate() error {
	if c.Token == "" {
		return &InputError{Field: "Token", Reason: "empty"}
	}
	if strings.ContainsAny(c.Token, " \t\r\n") {
		return &InputError{Field: "Token", Reason: "contains white space"}
	}
	return nil
}

// BearerToken authorizes every request with the same token.
type BearerToken struct {
	token string
}

// NewBearerToken checks cfg and returns its Authorizer.
func NewBearerToken(cfg BearerConfig) (*BearerToken, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &BearerToken{token: cfg.Token}, nil
}

// Authorize sets the Authorization header.
func (b *BearerToken) Authorize(_ context.Context, req *http.Request) error {
	req.Header.Set("Authorization", "Bearer "+b.token)
	return nil
}
