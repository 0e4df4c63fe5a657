package config

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

const ehrYAML = `ehr:
  endpoints:
    - name: main
      base_url: https://ehr.example.org/fhir/R4
      auth: smart
      client_id: televisit
      token_url: https://ehr.example.org/oauth2/token
      key_file: /run/secrets/ehr_key.pem
      scope: system/DocumentReference.write
    - name: clinic-b
      base_url: https://fhir.b.example.org/r4
      auth: bearer
      token_file: %s
      timeout: 10s
  lease: 1m
  retry_base: 2s
  retry_max: 5m
`

func TestConfigEHRSection(t *testing.T) {
	token := writeFile(t, "token", "tok-Zq9\n")
	cfg, err := Load(Source{File: writeFile(t, "c.yaml", fmt.Sprintf(ehrYAML, token)), Environ: complete()})
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(ForServe); err != nil {
		t.Fatal(err)
	}
	e := cfg.EHR
	if !e.Enabled() || len(e.Endpoints) != 2 || e.Endpoints[1].Token.Value() != "tok-Zq9" ||
		e.Endpoints[1].Timeout != 10*time.Second || e.Lease != time.Minute {
		t.Fatalf("ehr section: %+v", e)
	}
	if out := fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg); strings.Contains(out, "tok-Zq9") {
		t.Fatal("the EHR token is printed")
	}
}

func TestConfigEHRErrors(t *testing.T) {
	ep := func(body string) string { return "ehr:\n  endpoints:\n    - name: main\n" + body }
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", ep("      base_url: https://e.example/r4\n      auth: none\n      password: x\n"), "password"},
		{"http off loopback", ep("      base_url: http://ehr.example.org/r4\n      auth: bearer\n      token: t\n"), "base_url must be an absolute https URL"},
		{"smart without key", ep("      base_url: https://e.example/r4\n      auth: smart\n      client_id: c\n      token_url: https://e.example/t\n      scope: s\n"), "needs client_id, token_url, key_file and scope"},
		{"bearer without token", ep("      base_url: https://e.example/r4\n      auth: bearer\n"), "auth bearer needs token"},
		{"none off loopback", ep("      base_url: https://e.example/r4\n      auth: none\n"), "auth none is only for a loopback"},
		{"bad auth", ep("      base_url: https://e.example/r4\n      auth: basic\n"), "auth must be smart, bearer or none"},
		{"duplicate name", ep("      base_url: http://127.0.0.1:9/r4\n      auth: none\n    - name: main\n      base_url: http://127.0.0.1:9/r4\n      auth: none\n"), "used twice"},
		{"bad name", "ehr:\n  endpoints:\n    - name: Main EHR\n      base_url: http://127.0.0.1:9/r4\n      auth: none\n", "name must be"},
		{"short lease", "ehr:\n  lease: 10ms\n", "ehr.lease must be at least 1s"},
		{"retry max below base", "ehr:\n  retry_base: 1m\n  retry_max: 1s\n", "retry_max must not be less"},
		{"token and file", ep("      base_url: https://e.example/r4\n      auth: bearer\n      token: a\n      token_file: /x\n"), "token and token_file are both set"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Load(Source{File: writeFile(t, "c.yaml", tc.yaml), Environ: complete()})
			if err == nil {
				err = cfg.Validate(ForServe)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
