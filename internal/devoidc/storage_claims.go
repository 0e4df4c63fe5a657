package devoidc

import (
	"context"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// SetUserinfoFromScopes is deprecated in op; SetUserinfoFromRequest does
// the work.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token's user claims.
func (s *storage) SetUserinfoFromRequest(_ context.Context, ui *oidc.UserInfo, r op.IDTokenRequest, scopes []string) error {
	s.fillUserinfo(ui, r.GetSubject(), scopes)
	return nil
}

// SetUserinfoFromToken answers the userinfo endpoint.
func (s *storage) SetUserinfoFromToken(_ context.Context, ui *oidc.UserInfo, tokenID, _, _ string) error {
	t, ok := s.token(tokenID)
	if !ok {
		return errNotFound
	}
	s.fillUserinfo(ui, t.subject, t.scopes)
	return nil
}

func (s *storage) SetIntrospectionFromToken(_ context.Context, r *oidc.IntrospectionResponse, tokenID, _, _ string) error {
	t, ok := s.token(tokenID)
	if !ok {
		return errNotFound
	}
	ui := new(oidc.UserInfo)
	s.fillUserinfo(ui, t.subject, t.scopes)
	r.SetUserInfo(ui)
	r.Active, r.Scope, r.ClientID = true, t.scopes, t.clientID
	r.Audience, r.Expiration = t.audience, oidc.FromTime(t.expires)
	return nil
}

// fillUserinfo sets the standard claims the scopes ask for, and always the
// roles and clinics claims.
func (s *storage) fillUserinfo(ui *oidc.UserInfo, subject string, scopes []string) {
	ui.Subject = subject
	for k, v := range s.privateClaims(subject) {
		ui.AppendClaims(k, v)
	}
	u, ok := s.users[subject]
	if !ok {
		return
	}
	if slices.Contains(scopes, oidc.ScopeProfile) {
		ui.Name, ui.PreferredUsername = u.Name, u.Username
	}
	if slices.Contains(scopes, oidc.ScopeEmail) && u.Email != "" {
		ui.Email, ui.EmailVerified = u.Email, true
	}
}

func (s *storage) GetPrivateClaimsFromScopes(_ context.Context, subject, _ string, _ []string) (map[string]any, error) {
	return s.privateClaims(subject), nil
}

// GetPrivateClaimsFromRequest puts roles and clinics in access tokens, and
// for a user's token also the "amr" of the sign-in.
func (s *storage) GetPrivateClaimsFromRequest(_ context.Context, r op.TokenRequest, _ []string) (map[string]any, error) {
	claims := s.privateClaims(r.GetSubject())
	if a, ok := r.(op.AuthRequest); ok && len(a.GetAMR()) > 0 {
		claims["amr"] = slices.Clone(a.GetAMR())
	}
	return claims, nil
}

// privateClaims are the roles and clinics of a user or service client.
func (s *storage) privateClaims(subject string) map[string]any {
	var roles, clinics []string
	if u, ok := s.users[subject]; ok {
		roles, clinics = u.Roles, u.Clinics
	} else if c, ok := s.clients[subject]; ok {
		roles, clinics = c.c.Roles, c.c.Clinics
	}
	return map[string]any{
		s.cfg.RolesClaim:   append([]string{}, roles...),
		s.cfg.ClinicsClaim: append([]string{}, clinics...),
	}
}
