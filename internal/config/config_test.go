package config

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeFile writes content to a new file in a test directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// complete is the environment of a configuration that passes ForServe.
func complete() []string {
	return []string{
		"TELEVISIT_SERVER_PUBLIC_URL=http://127.0.0.1:8080",
		"TELEVISIT_DATABASE_URL=postgres://u:pw@db/televisit",
		"TELEVISIT_KEYS_PHI=k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"TELEVISIT_AUTH_ISSUER=https://idp.example.org",
		"TELEVISIT_AUTH_CLIENT_ID=televisit",
		"TELEVISIT_AUTH_CLIENT_SECRET=s3cr3t-value",
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		env     []string
		want    []string // substrings of the error
		notWant []string
	}{
		{name: "unknown top-level key", yaml: "bogus: 1\n", want: []string{"bogus"}},
		{name: "unknown nested key", yaml: "server:\n  public_url: http://127.0.0.1:8080\n  listen: x\n", want: []string{"listen", "line 3"}},
		{name: "two documents", yaml: "log:\n  level: info\n---\nlog:\n  level: debug\n", want: []string{"single YAML document"}},
		{name: "integer duration", yaml: "auth:\n  idle_timeout: 15\n", want: []string{"line 2", "time.Duration"}},
		{name: "bad duration in yaml", yaml: "auth:\n  idle_timeout: soon\n", want: []string{"time.Duration"}},
		{
			name: "unknown environment variables", env: []string{"TELEVISIT_DATABASE_URI=x", "TELEVISIT_FOO=1", "OTHER=ok"},
			want: []string{"unknown environment variables: TELEVISIT_DATABASE_URI, TELEVISIT_FOO"}, notWant: []string{"OTHER"},
		},
		{
			name: "bad duration in env", env: []string{"TELEVISIT_VISITS_LINK_GRACE=sometime"},
			want: []string{"TELEVISIT_VISITS_LINK_GRACE: not a duration"}, notWant: []string{"sometime"},
		},
		{name: "bad bool in env", env: []string{"TELEVISIT_AUTH_REQUIRE_MFA=perhaps"}, want: []string{"TELEVISIT_AUTH_REQUIRE_MFA: not a boolean"}},
		{name: "bad int in env", env: []string{"TELEVISIT_VISITS_MAX_CHECK_ATTEMPTS=five"}, want: []string{"TELEVISIT_VISITS_MAX_CHECK_ATTEMPTS: not an integer"}},
		{
			name: "secret and secret file", env: []string{"TELEVISIT_KEYS_PHI=a:b", "TELEVISIT_KEYS_PHI_FILE=/nonexistent"},
			want: []string{"keys.phi and keys.phi_file are both set"}, notWant: []string{"a:b"},
		},
		{name: "missing secret file", env: []string{"TELEVISIT_AUTH_CLIENT_SECRET_FILE=/nonexistent/secret"}, want: []string{"auth.client_secret_file", "no such file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := Source{Environ: tt.env}
			if tt.yaml != "" {
				src.File = writeFile(t, "televisit.yaml", tt.yaml)
			}
			_, err := Load(src)
			if err == nil {
				t.Fatal("Load succeeded; want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(err.Error(), w) {
					t.Errorf("error %q mentions %q", err, w)
				}
			}
		})
	}
}

func TestMissingRequiredInOneError(t *testing.T) {
	cfg, err := Load(Source{})
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.Validate(ForServe)
	if err == nil {
		t.Fatal("Validate of an empty config succeeded")
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{
		"database.url (TELEVISIT_DATABASE_URL or TELEVISIT_DATABASE_URL_FILE)",
		"server.public_url (TELEVISIT_SERVER_PUBLIC_URL)",
		"keys.phi (TELEVISIT_KEYS_PHI or TELEVISIT_KEYS_PHI_FILE)",
		"auth.issuer (TELEVISIT_AUTH_ISSUER)",
		"auth.client_id (TELEVISIT_AUTH_CLIENT_ID)",
		"auth.client_secret (TELEVISIT_AUTH_CLIENT_SECRET or TELEVISIT_AUTH_CLIENT_SECRET_FILE)",
	}
	if !strings.HasPrefix(lines[0], "config: missing required settings: ") {
		t.Fatalf("first line %q", lines[0])
	}
	for _, w := range want {
		if !strings.Contains(lines[0], w) {
			t.Errorf("missing-settings line %q lacks %q", lines[0], w)
		}
	}
	err = cfg.Validate(ForDatabase)
	if err == nil || strings.Contains(err.Error(), "keys.phi") || !strings.Contains(err.Error(), "database.url") {
		t.Fatalf("ForDatabase: %v; want only database.url missing", err)
	}
}

func TestCompleteEnvironmentValidates(t *testing.T) {
	cfg, err := Load(Source{Environ: complete()})
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(ForServe); err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Addr != "127.0.0.1:8080" || cfg.Auth.RedirectURL != "http://127.0.0.1:8080/auth/callback" ||
		strings.Join(cfg.Server.AllowedOrigins, ",") != "http://127.0.0.1:8080" || !cfg.Auth.RequireMFA {
		t.Fatalf("derived defaults: %+v", cfg)
	}
}

func TestDurationsAndPrecedence(t *testing.T) {
	file := writeFile(t, "c.yaml", "auth:\n  idle_timeout: 15m\n  absolute_timeout: 12h\nvisits:\n  link_grace: 30m\n  max_check_attempts: 3\nlog:\n  level: debug\n")
	env := append(complete(), "TELEVISIT_VISITS_LINK_GRACE=90s", "TELEVISIT_SERVER_TRUSTED_PROXIES=10.0.0.0/8, 192.168.1.1 ,")
	cfg, err := Load(Source{File: file, Environ: env})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"idle_timeout from file", cfg.Auth.IdleTimeout, 15 * time.Minute},
		{"absolute_timeout from file", cfg.Auth.AbsoluteTimeout, 12 * time.Hour},
		{"link_grace: environment overrides file", cfg.Visits.LinkGrace, 90 * time.Second},
		{"max_check_attempts", cfg.Visits.MaxCheckAttempts, 3},
		{"trusted_proxies list", strings.Join(cfg.Server.TrustedProxies, "|"), "10.0.0.0/8|192.168.1.1"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if err := cfg.Validate(ForServe); err != nil {
		t.Fatal(err)
	}
}

func TestSecretFiles(t *testing.T) {
	phi := writeFile(t, "phi", "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
	db := writeFile(t, "db", "postgres://u:pw@db/x\r\n")
	env := []string{"TELEVISIT_KEYS_PHI_FILE=" + phi, "TELEVISIT_DATABASE_URL_FILE=" + db}
	file := writeFile(t, "c.yaml", "notify:\n  webhook:\n    url: https://sms.example.org/hook\n    secret_file: "+phi+"\n")
	cfg, err := Load(Source{File: file, Environ: env})
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Keys.PHI.Value(); got != "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" {
		t.Errorf("keys.phi = %q", got)
	}
	if got := cfg.Database.URL.Value(); got != "postgres://u:pw@db/x" {
		t.Errorf("database.url = %q", got)
	}
	if cfg.Notify.Webhook.Secret == "" {
		t.Error("notify.webhook.secret not read from its file")
	}
}

func TestServerChecks(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want string // "" means valid
	}{
		{"loopback without TLS", nil, ""},
		{"localhost without TLS", []string{"TELEVISIT_SERVER_PUBLIC_URL=http://localhost:9000"}, ""},
		{"public host without TLS", []string{"TELEVISIT_SERVER_PUBLIC_URL=https://visits.example.org"}, "refusing to serve PHI in clear text"},
		{"all interfaces without TLS", []string{"TELEVISIT_SERVER_ADDR=:8080"}, "server.addr must be a loopback address"},
		{"TLS", []string{"TELEVISIT_SERVER_PUBLIC_URL=https://visits.example.org", "TELEVISIT_SERVER_TLS_CERT_FILE=c", "TELEVISIT_SERVER_TLS_KEY_FILE=k"}, ""},
		{"half TLS", []string{"TELEVISIT_SERVER_PUBLIC_URL=https://visits.example.org", "TELEVISIT_SERVER_TLS_CERT_FILE=c"}, "go together"},
		{"public url with path", []string{"TELEVISIT_SERVER_PUBLIC_URL=http://127.0.0.1:8080/tv"}, "no path"},
		{"bad origin", []string{"TELEVISIT_SERVER_ALLOWED_ORIGINS=https://a.example.org/x"}, "is not an origin"},
		{"bad proxy", []string{"TELEVISIT_SERVER_TRUSTED_PROXIES=proxy.local"}, "trusted_proxies"},
		{"metrics listener", []string{"TELEVISIT_SERVER_METRICS_ADDR=127.0.0.1:9090"}, ""},
		{"bad metrics addr", []string{"TELEVISIT_SERVER_METRICS_ADDR=9090"}, "server.metrics_addr must be host:port"},
		{"metrics on the public listener", []string{"TELEVISIT_SERVER_METRICS_ADDR=127.0.0.1:8080"}, "must differ from server.addr"},
		{"bad log level", []string{"TELEVISIT_LOG_LEVEL=loud"}, "log.level"},
		{"smtp without from", []string{"TELEVISIT_NOTIFY_SMTP_ADDR=mail:587"}, "notify.smtp needs both"},
		{"webhook without secret", []string{"TELEVISIT_NOTIFY_WEBHOOK_URL=https://sms.example.org"}, "notify.webhook needs both"},
		{"cluster node", []string{"TELEVISIT_CLUSTER_NODE_ID=node-a", "TELEVISIT_CLUSTER_ADVERTISE_URL=http://10.0.0.5:8080", "TELEVISIT_CLUSTER_LEASE=2s", "TELEVISIT_CLUSTER_DRAIN_TIMEOUT=0s"}, ""},
		{"bad node id", []string{"TELEVISIT_CLUSTER_NODE_ID=node a"}, "cluster.node_id"},
		{"bad advertise url", []string{"TELEVISIT_CLUSTER_ADVERTISE_URL=10.0.0.5:8080"}, "cluster.advertise_url"},
		{"advertise url with path", []string{"TELEVISIT_CLUSTER_ADVERTISE_URL=http://10.0.0.5:8080/ws"}, "cluster.advertise_url"},
		{"short lease", []string{"TELEVISIT_CLUSTER_LEASE=100ms"}, "cluster.lease"},
		{"long drain", []string{"TELEVISIT_CLUSTER_DRAIN_TIMEOUT=48h"}, "cluster.drain_timeout"},
		{"idle above absolute", []string{"TELEVISIT_AUTH_IDLE_TIMEOUT=2h", "TELEVISIT_AUTH_ABSOLUTE_TIMEOUT=1h"}, "idle_timeout must not exceed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(Source{Environ: append(complete(), tt.env...)})
			if err != nil {
				t.Fatal(err)
			}
			err = cfg.Validate(ForServe)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate: %v; want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	cfg, err := Load(Source{Environ: complete()})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "phi", cfg.Keys.PHI, "db", cfg.Database.URL)
	out := fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, buf.String())
	for _, secret := range []string{"AAAAAAAAAAAA", "s3cr3t-value", "u:pw@db"} {
		if strings.Contains(out, secret) {
			t.Errorf("secret %q printed: %s", secret, out)
		}
	}
}

func TestExampleFileIsValidYAML(t *testing.T) {
	cfg := Defaults()
	if err := decodeYAML(&cfg, "example.yaml", []byte(Example)); err != nil {
		t.Fatal(err)
	}
	if cfg.Auth.IdleTimeout != 15*time.Minute || cfg.Keys.PHIFile == "" {
		t.Fatalf("example decoded to %+v", cfg)
	}
}

func TestSettingsNamesEveryKey(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Settings() {
		if s.Env != EnvName(s.Key) || seen[s.Env] {
			t.Errorf("setting %+v: bad or duplicate environment name", s)
		}
		seen[s.Env] = true
	}
	for _, env := range []string{"TELEVISIT_KEYS_PHI_FILE", "TELEVISIT_NOTIFY_SMTP_STARTTLS", "TELEVISIT_AUTH_API_AUDIENCE"} {
		if !seen[env] {
			t.Errorf("no setting for %s", env)
		}
	}
}
