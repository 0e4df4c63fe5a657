package ehr

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

const (
	assertionType     = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	assertionLifetime = 5 * time.Minute
	maxTokenAnswer    = 64 << 10
	defaultTokenTTL   = 5 * time.Minute // when the answer has no expires_in
)

// tokenAnswer is the token endpoint's JSON answer.
type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Error       string `json:"error"`
}

// requestToken posts a client_credentials grant with a fresh assertion and
// returns the access token and its lifetime.
func (b *SMARTBackend) requestToken(ctx context.Context) (string, time.Duration, error) {
	assertion, err := b.assertion()
	if err != nil {
		return "", 0, err
	}
	form := url.Values{
		"grant_type":            {"client_credentials"},
		"scope":                 {b.cfg.Scope},
		"client_assertion_type": {assertionType},
		"client_assertion":      {assertion},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.cfg.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, fmt.Errorf("ehr: token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := b.http.Do(req)
	if err != nil {
		return "", 0, &AuthError{Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenAnswer))
	if err != nil {
		return "", 0, &AuthError{Err: fmt.Errorf("read answer: %w", err)}
	}
	return parseTokenAnswer(resp.StatusCode, body)
}

// parseTokenAnswer reads a token endpoint answer; errors are *AuthError.
func parseTokenAnswer(status int, body []byte) (string, time.Duration, error) {
	var a tokenAnswer
	jsonErr := json.Unmarshal(body, &a)
	if status != http.StatusOK {
		return "", 0, &AuthError{Status: status, Code: truncate(a.Error, 64)}
	}
	if jsonErr != nil || a.AccessToken == "" || !strings.EqualFold(a.TokenType, "bearer") {
		return "", 0, &AuthError{Status: status, Code: "malformed token answer"}
	}
	ttl := time.Duration(a.ExpiresIn) * time.Second
	if a.ExpiresIn <= 0 || a.ExpiresIn > 24*3600 {
		ttl = defaultTokenTTL
	}
	return a.AccessToken, ttl, nil
}

// assertion is the signed client assertion: iss = sub = client id, aud = the
// token URL, a random jti, expiring in 5 minutes.
func (b *SMARTBackend) assertion() (string, error) {
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: b.key.alg, Key: jose.JSONWebKey{Key: b.key.key, KeyID: b.key.kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", fmt.Errorf("ehr: assertion signer: %w", err)
	}
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", fmt.Errorf("ehr: assertion jti: %w", err)
	}
	now := b.now()
	claims := jwt.Claims{
		Issuer:   b.cfg.ClientID,
		Subject:  b.cfg.ClientID,
		Audience: jwt.Audience{b.cfg.TokenURL},
		ID:       base64.RawURLEncoding.EncodeToString(jti),
		IssuedAt: jwt.NewNumericDate(now),
		Expiry:   jwt.NewNumericDate(now.Add(assertionLifetime)),
	}
	tok, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("ehr: sign assertion: %w", err)
	}
	return tok, nil
}
