package pgcluster

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// credential is whom initdb and postgres run as: nil for the current user,
// the postgres system user when we are root.
type credential struct {
	uid, gid uint32
	home     string
}

func currentRunAs() (*credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgcluster: running as root needs the postgres system user (Debian's postgresql package creates it): %w", err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return &credential{uid: uint32(uid), gid: uint32(gid), home: u.HomeDir}, nil
}

func (c *credential) apply(cmd *exec.Cmd) {
	if c == nil {
		return
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Credential = &syscall.Credential{Uid: c.uid, Gid: c.gid}
	cmd.Dir = "/"
	cmd.Env = append(os.Environ(), "HOME="+c.home)
}

func (c *credential) chown(dir string) error {
	if c == nil {
		return nil
	}
	if err := os.Chown(dir, int(c.uid), int(c.gid)); err != nil {
		return fmt.Errorf("pgcluster: chown %s: %w", filepath.Base(dir), err)
	}
	return nil
}

// checkReachable fails early when the postgres user cannot reach dir because
// a parent directory (such as /root) is closed to others.
func (c *credential) checkReachable(dir string) error {
	if c == nil {
		return nil
	}
	for p := filepath.Dir(dir); p != "/"; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("pgcluster: the postgres user cannot enter %s; choose a data directory outside it", p)
		}
	}
	return nil
}
