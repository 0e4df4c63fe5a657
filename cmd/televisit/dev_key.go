package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/televisit/televisit/internal/sealbox"
)

// devKeyring reads the development PHI key ring from path, creating it
// (mode 0600) on first use, so sealed data survives restarts.
func devKeyring(path string) (*sealbox.Keyring, string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		spec, gerr := sealbox.GenerateSpec("dev1")
		if gerr != nil {
			return nil, "", gerr
		}
		if werr := writeNew(path, spec+"\n"); werr != nil {
			return nil, "", werr
		}
		b = []byte(spec)
	} else if err != nil {
		return nil, "", fmt.Errorf("read development key: %w", err)
	}
	spec := strings.TrimSpace(string(b))
	keys, err := sealbox.ParseKeyring(spec)
	if err != nil {
		return nil, "", fmt.Errorf("development key %s: %w", path, err)
	}
	return keys, spec, nil
}

// writeNew creates path with mode 0600; it fails if path exists.
func writeNew(path, content string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create development key: %w", err)
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return fmt.Errorf("write development key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write development key: %w", err)
	}
	return f.Close()
}
