package main

import (
	"fmt"
	"strings"

	"github.com/televisit/televisit/internal/config"
)

// loadConfig reads --config and the environment and checks what scope
// needs.
func loadConfig(file string, io stdio, scope config.Scope) (config.Config, error) {
	cfg, err := config.Load(config.Source{File: file, Environ: io.environ})
	if err != nil {
		return config.Config{}, err
	}
	if err := cfg.Validate(scope); err != nil {
		return config.Config{}, err
	}
	return cfg, nil
}

// configHelp lists every setting and its environment variable.
func configHelp() string {
	var b strings.Builder
	b.WriteString("Configuration: a YAML file (--config) and/or environment variables; the\n")
	b.WriteString("environment wins. Unknown keys and unknown TELEVISIT_* variables are errors.\n")
	b.WriteString("Secrets also accept a *_FILE variable naming a file that holds them.\n\n")
	for _, s := range config.Settings() {
		note := ""
		if s.Secret {
			note = "  (secret)"
		}
		fmt.Fprintf(&b, "  %-32s %s%s\n", s.Key, s.Env, note)
	}
	return b.String()
}
