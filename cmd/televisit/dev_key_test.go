package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDevKeyringIsCreatedOnceWithMode0600(t *testing.T) {
	path := filepath.Join(t.TempDir(), "phi.key")
	_, spec1, err := devKeyring(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	_, spec2, err := devKeyring(path)
	if err != nil {
		t.Fatal(err)
	}
	if spec1 != spec2 {
		t.Error("the key changed between starts")
	}
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := devKeyring(path); err == nil {
		t.Error("a corrupt key file was accepted")
	}
}
