package staffauth

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/televisit/televisit/visits"
)

func TestConfigDefaultsAndValidation(t *testing.T) {
	good := func() Config {
		return Config{Issuer: "https://idp.test", ClientID: "web", ClientSecret: "s", RedirectURL: "https://app.test/auth/callback"}
	}
	c := good()
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Scopes, []string{"openid", "profile", "email"}) || c.RolesClaim != "roles" || c.ClinicsClaim != "clinics" ||
		c.IdleTimeout != 15*time.Minute || c.AbsoluteTimeout != 12*time.Hour || c.APIAudience != "web" ||
		c.CookieName != "tv_staff" || !slices.Equal(c.MFAMethods, defaultMFAMethods) {
		t.Fatalf("defaults %+v", c)
	}
	c = good()
	c.Scopes = []string{"profile"}
	if c.validate(); c.Scopes[0] != "openid" {
		t.Fatalf("openid not added: %v", c.Scopes)
	}
	for name, mutate := range map[string]func(*Config){
		"no issuer":     func(c *Config) { c.Issuer = "" },
		"no secret":     func(c *Config) { c.ClientSecret = "" },
		"relative cb":   func(c *Config) { c.RedirectURL = "/auth/callback" },
		"bad post-out":  func(c *Config) { c.PostLogoutRedirectURL = "mailto:x" },
		"short idle":    func(c *Config) { c.IdleTimeout = time.Second },
		"abs < idle":    func(c *Config) { c.IdleTimeout, c.AbsoluteTimeout = time.Hour, 30*time.Minute },
		"cookie name":   func(c *Config) { c.CookieName = "a b;" },
		"negative rate": func(c *Config) { c.LoginPerMinute = -1 },
	} {
		c := good()
		mutate(&c)
		if err := c.validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestClaimShapes(t *testing.T) {
	a := &Auth{cfg: Config{RolesClaim: "roles", ClinicsClaim: "clinics"}}
	for name, tc := range map[string]struct {
		claims  map[string]any
		roles   []visits.Role
		clinics []string
		present bool
	}{
		"array":         {map[string]any{"roles": []any{"admin", "x", 3}, "clinics": []any{"a"}}, []visits.Role{visits.RoleAdmin}, []string{"a"}, true},
		"string":        {map[string]any{"roles": "clinician scheduler", "clinics": "a,b"}, []visits.Role{visits.RoleScheduler, visits.RoleClinician}, []string{"a", "b"}, true},
		"object keys":   {map[string]any{"roles": map[string]any{"admin": map[string]any{}, "owner": 1}}, []visits.Role{visits.RoleAdmin}, nil, false},
		"absent":        {map[string]any{}, nil, nil, false},
		"wrong type":    {map[string]any{"roles": 42, "clinics": nil}, nil, nil, false},
		"only unknown":  {map[string]any{"roles": []any{"nurse", "Admin"}}, nil, nil, false},
		"empty clinics": {map[string]any{"clinics": []any{}}, nil, nil, true},
		"duplicates":    {map[string]any{"roles": []any{"admin", "admin"}}, []visits.Role{visits.RoleAdmin}, nil, false},
	} {
		id, err := a.identityFromClaims("iss", "sub", tc.claims)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !slices.Equal(id.roles, tc.roles) || !slices.Equal(id.clinics, tc.clinics) || id.clinicsPresent != tc.present {
			t.Errorf("%s: roles %v clinics %v present %v", name, id.roles, id.clinics, id.clinicsPresent)
		}
	}
	if _, err := a.identityFromClaims("iss", "", nil); err == nil {
		t.Error("empty subject accepted")
	}
}

func TestBearerKind(t *testing.T) {
	for _, tc := range []struct {
		sub, clientID, azp string
		want               visits.ActorKind
	}{
		{"api-x", "api-x", "", visits.ActorAPIClient},
		{"api-x", "", "api-x", visits.ActorAPIClient},
		{"svc-uuid", "", "", visits.ActorAPIClient},
		{"alice", "web", "", visits.ActorStaff},
		{"alice", "", "web", visits.ActorStaff},
	} {
		if got := bearerKind(&identity{subject: tc.sub, clientID: tc.clientID, azp: tc.azp}); got != tc.want {
			t.Errorf("%+v: %s", tc, got)
		}
	}
}

func TestSanitizeReturnTo(t *testing.T) {
	for in, want := range map[string]string{
		"":                              "/",
		"/":                             "/",
		"/visits?day=2&x=%20y":          "/visits?day=2&x=%20y",
		"/a#frag":                       "/a#frag",
		"//evil.example":                "/",
		"/\\evil.example":               "/",
		"https://evil.example":          "/",
		"evil.example":                  "/",
		"/a b":                          "/",
		"/\tx":                          "/",
		"/é":                            "/",
		"/" + strings.Repeat("a", 2000): "/",
	} {
		if got := sanitizeReturnTo(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

func TestParseBearer(t *testing.T) {
	for in, want := range map[string]string{
		"Bearer abc.def.ghi": "abc.def.ghi",
		"bearer abc":         "abc",
		"BEARER  abc":        "abc",
		"Bearer":             "",
		"Bearer ":            "",
		"Basic abc":          "",
		"Bearer a b":         "",
		"Bearer a\x00":       "",
		"Bearerabc":          "",
	} {
		got, ok := parseBearer(in)
		if got != want || ok != (want != "") {
			t.Errorf("%q: %q %v", in, got, ok)
		}
	}
}

func TestAfterLogoutURL(t *testing.T) {
	a := &Auth{cfg: Config{ClientID: "web"}}
	if a.afterLogoutURL() != "/" {
		t.Fatal("without end_session the browser goes home")
	}
	a.endSessionURL = "https://idp.test/end?x=1"
	u, _ := url.Parse(a.afterLogoutURL())
	if u.Query().Get("x") != "1" || u.Query().Get("client_id") != "web" || u.Query().Has("post_logout_redirect_uri") {
		t.Fatalf("%s", u)
	}
}
