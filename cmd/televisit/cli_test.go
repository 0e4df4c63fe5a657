package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func runCLI(t *testing.T, environ []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, stdio{out: &out, err: &errb, environ: environ})
	return code, out.String(), errb.String()
}

func TestServeConfigErrors(t *testing.T) {
	tests := []struct {
		name    string
		env     []string
		args    []string
		want    []string
		notWant []string
	}{
		{
			name: "nothing configured",
			args: []string{"serve"},
			want: []string{"missing required settings", "database.url (TELEVISIT_DATABASE_URL or TELEVISIT_DATABASE_URL_FILE)",
				"server.public_url (TELEVISIT_SERVER_PUBLIC_URL)", "keys.phi (TELEVISIT_KEYS_PHI or TELEVISIT_KEYS_PHI_FILE)",
				"auth.issuer (TELEVISIT_AUTH_ISSUER)", "auth.client_id (TELEVISIT_AUTH_CLIENT_ID)", "auth.client_secret"},
		},
		{
			name: "unknown variable and partial settings",
			args: []string{"serve"},
			env:  []string{"TELEVISIT_DATABASE_URL=postgres://u:hunter2@db/x", "TELEVISIT_AUTH_ISUER=https://idp.example.org"},
			want: []string{"unknown environment variables: TELEVISIT_AUTH_ISUER"}, notWant: []string{"hunter2"},
		},
		{
			name: "clear text to the world",
			args: []string{"serve"},
			env: []string{"TELEVISIT_DATABASE_URL=postgres://u:hunter2@db/x", "TELEVISIT_SERVER_PUBLIC_URL=https://visits.example.org",
				"TELEVISIT_KEYS_PHI=k:x", "TELEVISIT_AUTH_ISSUER=https://idp.example.org", "TELEVISIT_AUTH_CLIENT_ID=tv",
				"TELEVISIT_AUTH_CLIENT_SECRET=s"},
			want: []string{"refusing to serve PHI in clear text"}, notWant: []string{"missing required", "hunter2"},
		},
		{
			name: "migrate needs only the database",
			args: []string{"migrate"},
			want: []string{"missing required settings: database.url"}, notWant: []string{"keys.phi", "auth.issuer"},
		},
		{
			name: "audit verify needs only the database",
			args: []string{"audit", "verify"},
			want: []string{"missing required settings: database.url"}, notWant: []string{"keys.phi"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tt.env, tt.args...)
			if code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(stderr, w) {
					t.Errorf("stderr contains %q:\n%s", w, stderr)
				}
			}
		})
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		args     []string
		code     int
		inStderr string
	}{
		{nil, 2, "Usage: televisit <command>"},
		{[]string{"help"}, 0, "audit"},
		{[]string{"bogus"}, 2, `unknown command "bogus"`},
		{[]string{"serve", "--help"}, 0, "TELEVISIT_KEYS_PHI_FILE"},
		{[]string{"dev", "--help"}, 0, "-data-dir"},
		{[]string{"dev", "--addr", "0.0.0.0:8080"}, 2, "loopback"},
		{[]string{"dev", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"serve", "--nope"}, 2, "flag provided but not defined"},
		{[]string{"audit"}, 2, "audit verify"},
		{[]string{"migrate", "--help"}, 0, "-config"},
	}
	for _, tt := range tests {
		code, _, stderr := runCLI(t, nil, tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.inStderr) {
			t.Errorf("televisit %v: exit %d, stderr %q; want exit %d and %q", tt.args, code, stderr, tt.code, tt.inStderr)
		}
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := runCLI(t, nil, "version")
	if code != 0 || !strings.HasPrefix(out, "televisit ") {
		t.Fatalf("version: %d %q", code, out)
	}
}
