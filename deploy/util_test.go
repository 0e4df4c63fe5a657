package deploy

import (
	"bytes"
	"errors"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/televisit/televisit/internal/config"
	"github.com/televisit/televisit/internal/sealbox"
)

// runTool runs name with args in dir and returns stdout; a failure reports
// stderr.
func runTool(t *testing.T, dir, name string, args ...string) (string, error) {
	t.Helper()
	return runToolEnv(t, dir, nil, name, args...)
}

// runToolEnv is runTool with env added to (or, with an empty value,
// removed from) this process's environment.
func runToolEnv(t *testing.T, dir string, env map[string]string, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !slices.Contains(slices.Collect(maps.Keys(env)), k) {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for k, v := range env {
		if v != "" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), errors.New(err.Error() + ": " + strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// yamlDocs decodes every document of a multi-document YAML stream.
func yamlDocs(t *testing.T, s string) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(s))
	var docs []map[string]any
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("rendered YAML does not parse: %v", err)
		}
		if d != nil {
			docs = append(docs, d)
		}
	}
}

// dig follows keys (map keys, or list indexes as ints) through v.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// loadServeConfig loads a televisit YAML configuration whose secret files
// live under the prefixes in paths (prefix -> directory on this machine),
// as `televisit serve` would, and checks it for serving.
func loadServeConfig(t *testing.T, yamlText string, paths map[string]string) config.Config {
	t.Helper()
	for prefix, dir := range paths {
		yamlText = strings.ReplaceAll(yamlText, prefix, dir+"/")
	}
	file := filepath.Join(t.TempDir(), "televisit.yaml")
	if err := os.WriteFile(file, []byte(yamlText), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.Source{File: file})
	if err != nil {
		t.Fatalf("config does not load: %v", err)
	}
	if err := cfg.Validate(config.ForServe); err != nil {
		t.Fatalf("config is not valid for serve: %v", err)
	}
	if _, err := sealbox.ParseKeyring(cfg.Keys.PHI.Value()); err != nil {
		t.Fatalf("keys.phi: %v", err)
	}
	return cfg
}

// genSecrets runs gen-secrets.sh into a new directory.
func genSecrets(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "secrets")
	if _, err := runTool(t, ".", "bash", "gen-secrets.sh", dir, "visits.example.org"); err != nil {
		t.Fatalf("gen-secrets.sh: %v (it needs openssl: make deps)", err)
	}
	return dir
}
