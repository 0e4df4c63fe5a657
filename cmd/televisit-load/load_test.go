package main

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/televisit/televisit/internal/syncbuf"
)

func TestCheckLoopback(t *testing.T) {
	ctx := context.Background()
	for _, s := range []string{"http://127.0.0.1:8080", "http://[::1]:8080", "http://localhost:8080"} {
		if _, err := checkLoopback(ctx, s, false); err != nil {
			t.Errorf("%s refused: %v", s, err)
		}
	}
	for _, s := range []string{"http://192.0.2.1:8080", "http://10.0.0.1", "ftp://127.0.0.1", "127.0.0.1:8080"} {
		if _, err := checkLoopback(ctx, s, false); err == nil {
			t.Errorf("%s accepted", s)
		}
	}
	if _, err := checkLoopback(ctx, "http://192.0.2.1:8080", true); err != nil {
		t.Errorf("-allow-remote did not allow: %v", err)
	}
}

func TestConfigLimits(t *testing.T) {
	ok := Config{Visits: 1, Participants: 2, Duration: time.Second, Audio: true,
		SchedulerID: "s", SchedulerSecret: "x", ClinicianUser: "c", ClinicianPassword: "y"}
	ok.defaults()
	if err := ok.validate(); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*Config){
		"visits":       func(c *Config) { c.Visits = maxVisits + 1 },
		"participants": func(c *Config) { c.Participants = 1 },
		"duration":     func(c *Config) { c.Duration = time.Hour },
		"nothing":      func(c *Config) { c.Audio = false; c.VideoBitrate = 0 },
		"secret":       func(c *Config) { c.SchedulerSecret = "" },
	} {
		c := ok
		mut(&c)
		if c.validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestProcessCPUAndListener(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	if _, err := processCPU(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	pid, err := listeningPID(ln.Addr().(*net.TCPAddr).Port)
	if err != nil {
		t.Fatal(err)
	}
	if pid != os.Getpid() {
		t.Errorf("listener pid %d, want %d", pid, os.Getpid())
	}
}

// TestLoadAgainstDevServer builds and runs the real server, `televisit dev`
// (PostgreSQL included), and runs a tiny load against it: 2 visits x 2
// participants with audio and video for 3 s.
func TestLoadAgainstDevServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and the server")
	}
	bin := filepath.Join(t.TempDir(), "televisit")
	if out, err := exec.Command("go", "build", "-o", bin, "../televisit").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir, err := os.MkdirTemp("", "tvload")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o711); err != nil { // the postgres user enters it when we are root
		t.Fatal(err)
	}
	var stdout, stderr syncbuf.Buffer
	cmd := exec.Command(bin, "dev", "--addr", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt) // stops PostgreSQL too
		select {
		case <-done:
		case <-time.After(90 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("televisit dev stderr (tail):\n%s", tail(stderr.String(), 4000))
		}
	})

	baseRE := regexp.MustCompile(`Televisit dev server: (http://127\.0\.0\.1:\d+)`)
	secretRE := regexp.MustCompile(`(?m)^\s+api-scheduler\s+scheduler\s+(\S+)$`)
	deadline := time.Now().Add(3 * time.Minute)
	for !strings.Contains(stdout.String(), "Data: ") {
		select {
		case err := <-done:
			t.Fatalf("televisit dev exited: %v\n%s", err, tail(stderr.String(), 4000))
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no banner from televisit dev within 3 minutes")
		}
	}
	out := stdout.String()
	base, secret := baseRE.FindStringSubmatch(out), secretRE.FindStringSubmatch(out)
	if base == nil || secret == nil {
		t.Fatalf("banner without base URL or api-scheduler secret:\n%s", out)
	}
	if resp, err := http.Get(base[1] + "/readyz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("/readyz: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := Run(ctx, Config{
		Server: base[1], Visits: 2, Participants: 2, Duration: 3 * time.Second,
		Audio: true, VideoBitrate: 300e3,
		SchedulerID: "api-scheduler", SchedulerSecret: secret[1],
		ClinicianUser: "clinician", ClinicianPassword: "demo-clinician",
		ServerPID: cmd.Process.Pid, Log: testWriter{t},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", *rep)
	if rep.Joined != 4 || rep.ReceivingAll != 4 {
		t.Errorf("joined %d, receiving all %d; want 4 and 4 (errors: %v)", rep.Joined, rep.ReceivingAll, rep.JoinErrors)
	}
	if rep.PacketsReceived == 0 || rep.AudioReceived == 0 || rep.VideoReceived == 0 {
		t.Errorf("received %d packets (audio %d, video %d)", rep.PacketsReceived, rep.AudioReceived, rep.VideoReceived)
	}
	// Same machine, loopback: a few packets may be lost under -race on a
	// busy machine, not more.
	if rep.LossPct > 5 {
		t.Errorf("loss %.2f%%", rep.LossPct)
	}
	if rep.JoinP50Ms <= 0 || rep.DelayP50Ms <= 0 {
		t.Errorf("join p50 %v ms, delay p50 %v ms: not measured", rep.JoinP50Ms, rep.DelayP50Ms)
	}
	if rep.ServerPID != cmd.Process.Pid || rep.CPUSecondsPer1000 <= 0 {
		t.Errorf("server CPU not measured: pid %d, %v s per 1000 (%s)", rep.ServerPID, rep.CPUSecondsPer1000, rep.CPUNote)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func TestStreamStats(t *testing.T) {
	s := newStreamStats(100)
	for _, q := range []uint32{101, 103, 103, 99, 104, 100} { // 102 lost, 103 twice, 99 early
		s.add(q)
	}
	if s.expected() != 5 || s.lost() != 1 || s.dups != 1 || s.early != 1 || s.unique != 4 {
		t.Errorf("expected %d lost %d dups %d early %d unique %d", s.expected(), s.lost(), s.dups, s.early, s.unique)
	}
}
