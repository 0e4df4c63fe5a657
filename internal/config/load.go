package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"gopkg.in/yaml.v3"
)

// Source says where to read the configuration from.
type Source struct {
	// File is a YAML file; empty for none.
	File string
	// Environ holds "KEY=value" strings, normally os.Environ().
	Environ []string
}

// Load reads the defaults, then File, then the TELEVISIT_* variables of
// Environ, then secret files, and fills in derived defaults. It does not
// validate: call Validate for the command's needs.
func Load(src Source) (Config, error) {
	cfg := Defaults()
	if src.File != "" {
		if err := decodeFile(&cfg, src.File); err != nil {
			return Config{}, err
		}
	}
	if err := applyEnv(&cfg, src.Environ); err != nil {
		return Config{}, fmt.Errorf("config: environment: %w", err)
	}
	if err := readSecretFiles(&cfg); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	if err := readEHRSecretFiles(&cfg); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	cfg.fillDerived()
	return cfg, nil
}

// decodeFile decodes a YAML file into cfg, rejecting unknown keys.
func decodeFile(cfg *Config, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return decodeYAML(cfg, path, b)
}

func decodeYAML(cfg *Config, name string, b []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config: %s: %w", name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return fmt.Errorf("config: %s: want a single YAML document", name)
	}
	return nil
}
