package turncred

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

const testSecret = "north-wind-secret"

var testURLs = []string{"turn:127.0.0.1:3478?transport=udp"}

// TestKnownAnswer checks against a value computed independently with:
//
//	printf '%s' '1700000000:visit-42' | openssl dgst -sha1 -hmac 'north-wind-secret' -binary | base64
func TestKnownAnswer(t *testing.T) {
	cfg := Config{Secret: testSecret, URLs: testURLs} // default TTL 6h
	now := time.Unix(1700000000, 0).Add(-6 * time.Hour)
	got, err := cfg.Credentials("visit-42", now)
	if err != nil {
		t.Fatal(err)
	}
	if got.Username != "1700000000:visit-42" {
		t.Errorf("username = %q", got.Username)
	}
	if got.Credential != "UBQkO+yaHsax26PnchLJ/OZ4iWI=" {
		t.Errorf("credential = %q", got.Credential)
	}
	if !got.ExpiresAt.Equal(time.Unix(1700000000, 0)) || got.ExpiresAt.Location() != time.UTC {
		t.Errorf("ExpiresAt = %v", got.ExpiresAt)
	}
}

// printf '%s' '1700021600:p-7f3a' | openssl dgst -sha1 -hmac 'north-wind-secret' -binary | base64
func TestPasswordKnownAnswer(t *testing.T) {
	if got := Password(testSecret, "1700021600:p-7f3a"); got != "cANP9y4nI/FIVfouLcwbqTExZAs=" {
		t.Errorf("Password = %q", got)
	}
}

func TestCredentials(t *testing.T) {
	now := time.Date(2026, 11, 24, 19, 0, 0, 500e6, time.UTC)
	tests := []struct {
		name     string
		cfg      Config
		id       string
		wantUser string
		wantErr  error
	}{
		{"default ttl", Config{Secret: testSecret, URLs: testURLs}, "a1", "1795568400:a1", nil},
		{"custom ttl", Config{Secret: testSecret, TTL: time.Hour, URLs: testURLs}, "a1", "1795550400:a1", nil},
		{"turns url", Config{Secret: testSecret, URLs: []string{"turns:t.example:5349?transport=tcp"}}, "x", "1795568400:x", nil},
		{"short secret", Config{Secret: "short", URLs: testURLs}, "a1", "", ErrConfig},
		{"ttl too short", Config{Secret: testSecret, TTL: time.Second, URLs: testURLs}, "a1", "", ErrConfig},
		{"ttl too long", Config{Secret: testSecret, TTL: 25 * time.Hour, URLs: testURLs}, "a1", "", ErrConfig},
		{"negative ttl", Config{Secret: testSecret, TTL: -time.Hour, URLs: testURLs}, "a1", "", ErrConfig},
		{"no urls", Config{Secret: testSecret}, "a1", "", ErrConfig},
		{"stun url", Config{Secret: testSecret, URLs: []string{"stun:127.0.0.1:3478"}}, "a1", "", ErrConfig},
		{"empty id", Config{Secret: testSecret, URLs: testURLs}, "", "", ErrID},
		{"colon in id", Config{Secret: testSecret, URLs: testURLs}, "a:b", "", ErrID},
		{"space in id", Config{Secret: testSecret, URLs: testURLs}, "a b", "", ErrID},
		{"non-ascii id", Config{Secret: testSecret, URLs: testURLs}, "é", "", ErrID},
		{"long id", Config{Secret: testSecret, URLs: testURLs}, strings.Repeat("a", 129), "", ErrID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.cfg.Credentials(tt.id, now)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if tt.cfg.Secret != "" && strings.Contains(err.Error(), tt.cfg.Secret) {
					t.Errorf("error %q reveals the secret", err)
				}
				return
			}
			if got.Username != tt.wantUser {
				t.Errorf("username = %q, want %q", got.Username, tt.wantUser)
			}
			if got.Credential != Password(tt.cfg.Secret, got.Username) {
				t.Errorf("credential does not match username")
			}
			if len(got.URLs) != len(tt.cfg.URLs) {
				t.Errorf("URLs = %v", got.URLs)
			}
		})
	}
}

func TestURLsAreCopied(t *testing.T) {
	urls := []string{"turn:a:3478"}
	got, err := Config{Secret: testSecret, URLs: urls}.Credentials("id", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	got.URLs[0] = "changed"
	if urls[0] != "turn:a:3478" {
		t.Error("Credentials shares the config's URL slice")
	}
}

func TestJSONIsRTCIceServer(t *testing.T) {
	cred, err := Config{Secret: testSecret, URLs: testURLs}.Credentials("id", time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(cred)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"urls", "username", "credential"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON %s lacks %q", b, k)
		}
	}
	if len(m) != 3 {
		t.Errorf("JSON %s has extra members", b)
	}
}

func TestValidate(t *testing.T) {
	if err := (Config{Secret: testSecret, URLs: testURLs}).Validate(); err != nil {
		t.Errorf("valid config: %v", err)
	}
	if err := (Config{}).Validate(); !errors.Is(err, ErrConfig) {
		t.Errorf("zero config: %v", err)
	}
}
