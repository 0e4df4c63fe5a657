package fhirtest

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"syscall"
	"time"

	"github.com/televisit/televisit/internal/syncbuf"
)

var readyLine = regexp.MustCompile(`(?m)^fhirtest ready port=(\d+)$`)

// nodeProc is the node process running server.mjs in its own process group.
type nodeProc struct {
	addr    string // 127.0.0.1:port
	cmd     *exec.Cmd
	log     *syncbuf.Buffer
	exited  chan struct{}
	waitErr error
}

// startNode runs `node server.mjs 0` in dir and waits for its ready line.
func startNode(dir, tmp string, env []string) (*nodeProc, error) {
	bin, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("node not found on PATH (%v); run: %s", err, InstallHint)
	}
	n := &nodeProc{log: &syncbuf.Buffer{}, exited: make(chan struct{})}
	n.cmd = exec.Command(bin, "server.mjs", "0")
	n.cmd.Dir = dir
	n.cmd.Env = append(append(os.Environ(), "HOME="+tmp), env...)
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	ready := make(chan string, 1)
	n.cmd.Stdout = &readyWriter{log: n.log, ready: ready}
	n.cmd.Stderr = n.log
	if err := n.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start node server.mjs: %w", err)
	}
	go func() { n.waitErr = n.cmd.Wait(); close(n.exited) }()
	select {
	case port := <-ready:
		n.addr = "127.0.0.1:" + port
		return n, nil
	case <-n.exited:
		return nil, fmt.Errorf("node server.mjs exited during start: %v\n%s", n.waitErr, n.log.String())
	case <-time.After(startTimeout):
		n.stop(stopTimeout)
		return nil, fmt.Errorf("node server.mjs not ready within %s\n%s", startTimeout, n.log.String())
	}
}

// readyWriter copies the process output to the log and reports the port of
// the ready line once.
type readyWriter struct {
	log   *syncbuf.Buffer
	ready chan<- string
	sent  bool
}

func (w *readyWriter) Write(p []byte) (int, error) {
	n, err := w.log.Write(p)
	if !w.sent {
		if m := readyLine.FindStringSubmatch(w.log.String()); m != nil {
			w.sent = true
			w.ready <- m[1]
		}
	}
	return n, err
}

// stop terminates the process group, killing it after timeout.
func (n *nodeProc) stop(timeout time.Duration) {
	pgid := n.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-n.exited:
	case <-time.After(timeout):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-n.exited
	}
}
