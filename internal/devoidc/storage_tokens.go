package devoidc

import (
	"context"
	"crypto/subtle"
	"errors"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// accessToken is what the store remembers of an issued access token, for
// userinfo, introspection and revocation.
type accessToken struct {
	id       string
	subject  string
	clientID string
	audience []string
	scopes   []string
	expires  time.Time
}

var errNoRefresh = errors.New("devoidc: refresh tokens are not issued")

func (s *storage) CreateAccessToken(_ context.Context, r op.TokenRequest) (string, time.Time, error) {
	t := &accessToken{
		id:       RandomSecret(),
		subject:  r.GetSubject(),
		clientID: r.GetSubject(),
		audience: slices.Clone(r.GetAudience()),
		scopes:   slices.Clone(r.GetScopes()),
		expires:  time.Now().Add(s.cfg.AccessTokenTTL),
	}
	if a, ok := r.(op.AuthRequest); ok {
		t.clientID = a.GetClientID()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked(time.Now())
	if len(s.tokens) >= maxPending {
		return "", time.Time{}, oidc.ErrServerError().WithDescription("too many live tokens")
	}
	s.tokens[t.id] = t
	return t.id, t.expires, nil
}

func (s *storage) token(id string) (*accessToken, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[id]
	if !ok || time.Now().After(t.expires) {
		return nil, false
	}
	return t, true
}

func (s *storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, oidc.ErrUnsupportedGrantType().WithParent(errNoRefresh)
}

func (s *storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, op.ErrInvalidRefreshToken
}

func (s *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

func (s *storage) RevokeToken(_ context.Context, tokenOrID, _, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tokens[tokenOrID]; ok && t.clientID == clientID {
		delete(s.tokens, tokenOrID)
	}
	return nil
}

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) { return s.key, nil }

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{publicKey{s.key}}, nil
}

func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	c, ok := s.clients[id]
	if !ok {
		return nil, errNotFound
	}
	return c, nil
}

func (s *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	c, ok := s.clients[id]
	if !ok || subtle.ConstantTimeCompare([]byte(secret), []byte(c.c.Secret)) != 1 {
		return errors.New("devoidc: wrong client id or secret")
	}
	return nil
}

// ClientCredentials authenticates a service client.
func (s *storage) ClientCredentials(ctx context.Context, id, secret string) (op.Client, error) {
	if err := s.AuthorizeClientIDSecret(ctx, id, secret); err != nil {
		return nil, err
	}
	c := s.clients[id]
	if !c.c.Credentials {
		return nil, errors.New("devoidc: not a service client")
	}
	return c, nil
}

// ClientCredentialsTokenRequest: the subject of a service token is the
// client id; its audience is the client id and the client's Audience.
func (s *storage) ClientCredentialsTokenRequest(_ context.Context, id string, scopes []string) (op.TokenRequest, error) {
	c, ok := s.clients[id]
	if !ok {
		return nil, errNotFound
	}
	aud := append([]string{id}, c.c.Audience...)
	return &tokenRequest{subject: id, audience: aud, scopes: scopes}, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("devoidc: JWT profile client authentication is not supported")
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("devoidc: JWT profile grant is not supported")
}
