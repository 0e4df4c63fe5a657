package config

import (
	"strings"
	"testing"
)

// FuzzLoad: any file or environment value gives a config or an error,
// never a panic, and errors never quote a secret's value.
func FuzzLoad(f *testing.F) {
	f.Add("server:\n  public_url: http://127.0.0.1:8080\n", "TELEVISIT_AUTH_IDLE_TIMEOUT", "15m")
	f.Add(Example, "TELEVISIT_KEYS_PHI", "k:SECRETVALUE")
	f.Add("auth: [1, 2]\n", "TELEVISIT_SERVER_TRUSTED_PROXIES", "a,,b")
	f.Fuzz(func(t *testing.T, yaml, envName, envValue string) {
		cfg := Defaults()
		_ = decodeYAML(&cfg, "fuzz.yaml", []byte(yaml))
		err := applyEnv(&cfg, []string{envName + "=" + envValue})
		if err != nil && len(envValue) > 8 && !strings.Contains(envName, envValue) && strings.Contains(err.Error(), envValue) {
			t.Fatalf("error quotes the value: %v", err)
		}
		_ = cfg.Validate(ForServe)
	})
}
