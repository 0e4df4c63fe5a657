package staffauth

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/televisit/televisit/visits"
)

const (
	maxClaimValues = 100
	maxClaimText   = 200
)

// identity is what staffauth takes from a verified token.
type identity struct {
	issuer, subject string
	azp, clientID   string // authorized party and client_id claims, if any
	name, email     string
	roles           []visits.Role
	clinics         []string // clinic slugs
	clinicsPresent  bool     // the token carried the clinics claim
	amr             []string
	idTokenLike     bool // carries nonce, at_hash or c_hash
}

func (a *Auth) identityFromIDToken(t *oidc.IDToken) (*identity, error) {
	var m map[string]any
	if err := t.Claims(&m); err != nil {
		return nil, fmt.Errorf("read claims: %w", err)
	}
	return a.identityFromClaims(t.Issuer, t.Subject, m)
}

func (a *Auth) identityFromClaims(issuer, subject string, m map[string]any) (*identity, error) {
	if subject == "" || len(subject) > 255 || !utf8.ValidString(subject) {
		return nil, errors.New("token without a usable subject")
	}
	id := &identity{issuer: issuer, subject: subject,
		azp: str(m["azp"]), clientID: str(m["client_id"]),
		name: firstNonEmpty(str(m["name"]), str(m["preferred_username"])), email: str(m["email"])}
	id.roles = rolesFrom(stringList(m[a.cfg.RolesClaim]))
	raw, present := m[a.cfg.ClinicsClaim]
	id.clinics, id.clinicsPresent = stringList(raw), present && raw != nil
	id.amr = stringList(m["amr"])
	id.idTokenLike = str(m["nonce"]) != "" || str(m["at_hash"]) != "" || str(m["c_hash"]) != ""
	return id, nil
}

// str is a string claim, cut to maxClaimText characters; anything else is "".
func str(v any) string {
	s, _ := v.(string)
	if !utf8.ValidString(s) {
		return ""
	}
	if utf8.RuneCountInString(s) > maxClaimText {
		s = string([]rune(s)[:maxClaimText])
	}
	return s
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// stringList reads a list claim in the shapes providers use: a JSON array
// of strings, one string (values separated by spaces or commas), or an
// object whose keys are the values (as ZITADEL's project roles). Other
// values are ignored; at most maxClaimValues are kept.
func stringList(v any) []string {
	var out []string
	add := func(s string) {
		s = strings.TrimSpace(s)
		if s != "" && len(out) < maxClaimValues && len(s) <= maxClaimText && utf8.ValidString(s) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	switch t := v.(type) {
	case string:
		for _, f := range strings.FieldsFunc(t, func(r rune) bool { return r == ' ' || r == ',' }) {
			add(f)
		}
	case []any:
		for _, e := range t {
			if s, ok := e.(string); ok {
				add(s)
			}
		}
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			add(k)
		}
	}
	return out
}

// rolesFrom keeps the values that are visits roles, in a fixed order.
func rolesFrom(values []string) []visits.Role {
	var roles []visits.Role
	for _, r := range []visits.Role{visits.RoleScheduler, visits.RoleClinician, visits.RoleAdmin} {
		if slices.Contains(values, string(r)) {
			roles = append(roles, r)
		}
	}
	return roles
}

func roleStrings(roles []visits.Role) []string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = string(r)
	}
	return out
}

// mfaSatisfied reports whether amr names one of the accepted MFA methods.
func mfaSatisfied(amr, methods []string) bool {
	for _, m := range amr {
		if slices.Contains(methods, m) {
			return true
		}
	}
	return false
}
