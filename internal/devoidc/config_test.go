package devoidc

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
)

func TestConfigValidate(t *testing.T) {
	good := func() Config { return DemoConfig("http://127.0.0.1:8080/oidc/", "http://127.0.0.1:8080/auth/callback") }
	c := good()
	if err := c.validate(); err != nil {
		t.Fatalf("demo config: %v", err)
	}
	if c.Issuer != "http://127.0.0.1:8080/oidc" || c.RolesClaim != "roles" || c.ClinicsClaim != "clinics" || c.AccessTokenTTL == 0 {
		t.Fatalf("defaults not applied: %+v", c)
	}
	bad := map[string]func(*Config){
		"no issuer":         func(c *Config) { c.Issuer = "" },
		"relative issuer":   func(c *Config) { c.Issuer = "/oidc" },
		"issuer with query": func(c *Config) { c.Issuer = "http://h/oidc?x=1" },
		"same claims":       func(c *Config) { c.ClinicsClaim = "roles" },
		"ttl":               func(c *Config) { c.AccessTokenTTL = -1 },
		"user no password":  func(c *Config) { c.Users[0].Password = "" },
		"duplicate user":    func(c *Config) { c.Users[1].Username = c.Users[0].Username },
		"duplicate subject": func(c *Config) { c.Users[1].Subject = c.Users[0].Subject },
		"client no secret":  func(c *Config) { c.Clients[0].Secret = "" },
		"client = user sub": func(c *Config) { c.Clients[1].ID = c.Users[0].Subject },
		"duplicate client":  func(c *Config) { c.Clients[2].ID = c.Clients[1].ID },
		"web no redirect":   func(c *Config) { c.Clients[0].RedirectURIs = nil },
		"relative redirect": func(c *Config) { c.Clients[0].RedirectURIs = []string{"/cb"} },
		"fragment redirect": func(c *Config) { c.Clients[0].RedirectURIs = []string{"http://h/cb#x"} },
		"relative post-out": func(c *Config) { c.Clients[0].PostLogoutRedirectURIs = []string{"/"} },
	}
	for name, mutate := range bad {
		c := good()
		mutate(&c)
		if _, err := New(c, slog.New(slog.DiscardHandler)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestDemoSecretsAreRandom(t *testing.T) {
	a, b := DemoConfig("http://h/oidc", "http://h/cb"), DemoConfig("http://h/oidc", "http://h/cb")
	for i := range a.Clients {
		if a.Clients[i].Secret == b.Clients[i].Secret || len(a.Clients[i].Secret) < 40 {
			t.Fatalf("client %s: secret not random", a.Clients[i].ID)
		}
	}
	ids := []string{}
	for _, c := range a.Clients {
		ids = append(ids, c.ID)
	}
	if strings.Join(ids, ",") != "televisit-web,api-scheduler,api-clinician,api-admin" {
		t.Fatalf("clients %v", ids)
	}
	if a.Clients[0].PostLogoutRedirectURIs[0] != "http://h/" {
		t.Fatalf("post logout %v", a.Clients[0].PostLogoutRedirectURIs)
	}
}

// An issuer without a path is served at the root of the handler.
func TestHandlerAtRoot(t *testing.T) {
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	p, err := New(DemoConfig(issuer, issuer+"/cb"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = p.Handler()
	srv.Start()
	defer srv.Close()
	prov, err := oidc.NewProvider(context.Background(), issuer)
	if err != nil {
		t.Fatalf("discovery at the root: %v", err)
	}
	if prov.Endpoint().AuthURL != issuer+"/authorize" {
		t.Fatalf("auth url %s", prov.Endpoint().AuthURL)
	}
}

// FuzzLoginSubmit posts arbitrary forms to the login page: never a panic,
// never a 5xx, never a redirect without a pending request.
func FuzzLoginSubmit(f *testing.F) {
	p, err := New(DemoConfig("http://127.0.0.1/oidc", "http://127.0.0.1/cb"), slog.New(slog.DiscardHandler))
	if err != nil {
		f.Fatal(err)
	}
	h := p.Handler()
	f.Add("id=x&username=admin&password=demo-admin")
	f.Add("id=%zz&username=&password=")
	f.Add(strings.Repeat("a=b&", 1000))
	f.Add("username=" + url.QueryEscape("<script>"))
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, "/oidc/login", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 300 && w.Code != http.StatusBadRequest && w.Code != http.StatusUnauthorized {
			t.Fatalf("status %d", w.Code)
		}
		if strings.Contains(w.Body.String(), "<script>") {
			t.Fatal("unescaped input on the page")
		}
	})
}
