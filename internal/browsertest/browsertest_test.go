package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/televisit/televisit/internal/turncred"
	"github.com/televisit/televisit/internal/turntest"
)

const (
	minFrames    = 30               // strict: more than this many decoded frames
	mediaTimeout = 40 * time.Second // generous: -race, 2 cores, other packages' tests
	pageTimeout  = 30 * time.Second
)

func TestEvalAndWaitFor(t *testing.T) {
	srv := startTestServer(t)
	b := Start(t, WithName("eval"))
	ctx := b.Context()
	if err := Navigate(ctx, srv.URL+"/peer.html"); err != nil {
		t.Fatal(err)
	}
	n, err := Eval[int](ctx, `Promise.resolve(40 + 2)`)
	if err != nil || n != 42 {
		t.Fatalf("Eval = %d, %v", n, err)
	}
	if _, err := Eval[int](ctx, `Promise.reject(new Error("boom"))`); err == nil {
		t.Fatal("Eval of a rejected promise: no error")
	}
	if err := WaitFor(ctx, `typeof window.peer === "object"`, pageTimeout); err != nil {
		t.Fatal(err)
	}
	if err := WaitFor(ctx, `false`, 600*time.Millisecond); err == nil {
		t.Fatal("WaitFor(false) returned nil")
	}
	if err := WaitFor(ctx, `Promise.resolve(window.noSuchThing.x)`, 600*time.Millisecond); err == nil ||
		!strings.Contains(err.Error(), "noSuchThing") {
		t.Fatalf("WaitFor with a throwing predicate: %v", err)
	}

	// Console messages and exceptions reach Messages (and the test log).
	if _, err := Eval[chromedp.Void](ctx, `console.log("hello from the page"); setTimeout(() => { throw new Error("test exception") }, 0); true`); err != nil {
		t.Fatal(err)
	}
	waitMessage(t, b, func(m Message) bool { return m.Type == "log" && m.Text == "hello from the page" })
	waitMessage(t, b, func(m Message) bool { return m.Exception && strings.Contains(m.Text, "test exception") })

	shot := filepath.Join(t.TempDir(), "page.png")
	if err := Screenshot(ctx, shot); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(shot); err != nil || !strings.HasPrefix(string(data), "\x89PNG") {
		t.Fatalf("screenshot: %d bytes, %v", len(data), err)
	}

	tab := b.NewTab(t)
	if err := Navigate(tab, srv.URL+"/loopback.html"); err != nil {
		t.Fatal(err)
	}
	if title, err := Eval[string](tab, `document.title`); err != nil || !strings.Contains(title, "one page") {
		t.Fatalf("title of second tab = %q, %v", title, err)
	}
}

func waitMessage(t *testing.T, b *Browser, match func(Message) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range b.Messages() {
			if match(m) {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("message not seen; have %+v", b.Messages())
}

// TestOnePageLoopback: two peer connections in one page, fake camera, more
// than 30 frames decoded.
func TestOnePageLoopback(t *testing.T) {
	srv := startTestServer(t)
	b := Start(t, WithName("loopback"))
	ctx := b.Context()
	if err := Navigate(ctx, srv.URL+"/loopback.html"); err != nil {
		t.Fatal(err)
	}
	startCtx, cancel := context.WithTimeout(ctx, pageTimeout)
	defer cancel()
	if _, err := Eval[bool](startCtx, `loopback.start()`); err != nil {
		t.Fatalf("start: %v", err)
	}
	v, err := WaitFramesDecoded(ctx, "loopback.b", minFrames, mediaTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("decoded %d frames (%dx%d %s, %d packets)", v.FramesDecoded, v.FrameWidth, v.FrameHeight, v.Codec, v.PacketsReceived)
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("page exceptions: %+v", ex)
	}
}

// peerConfig is what peer.start() takes.
type peerConfig struct {
	WSURL              string               `json:"wsURL"`
	Offer              bool                 `json:"offer"`
	ICEServers         []turncred.ICEServer `json:"iceServers,omitempty"`
	ICETransportPolicy string               `json:"iceTransportPolicy,omitempty"`
}

// runTwoBrowsers starts two Chromium processes with one peer connection
// each, signalling through the test's relay, and checks that each decodes
// more than 30 frames of the other's camera. It returns both browsers.
func runTwoBrowsers(t *testing.T, configure func(name string, cfg *peerConfig)) [2]*Browser {
	srv := startTestServer(t)
	wsBase := "ws" + strings.TrimPrefix(srv.URL, "http") + "/relay?room=" + t.Name()
	names := [2]string{"a", "b"}
	var browsers [2]*Browser
	for i, name := range names {
		browsers[i] = Start(t, WithName(name))
		if err := Navigate(browsers[i].Context(), srv.URL+"/peer.html"); err != nil {
			t.Fatal(err)
		}
	}
	for i, name := range names {
		cfg := peerConfig{WSURL: wsBase + "&peer=" + name, Offer: name == "a"}
		if configure != nil {
			configure(name, &cfg)
		}
		js, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(browsers[i].Context(), pageTimeout)
		_, err = Eval[bool](ctx, fmt.Sprintf("peer.start(%s)", js))
		cancel()
		if err != nil {
			t.Fatalf("peer %s start: %v", name, err)
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range browsers {
		wg.Go(func() {
			v, err := WaitFramesDecoded(browsers[i].Context(), "peer.pc", minFrames, mediaTimeout)
			if err == nil {
				t.Logf("peer %s decoded %d frames (%dx%d %s, %d packets)", names[i], v.FramesDecoded, v.FrameWidth, v.FrameHeight, v.Codec, v.PacketsReceived)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("peer %s: %v", names[i], err)
		}
		if ex := browsers[i].Exceptions(); len(ex) > 0 {
			t.Errorf("peer %s page exceptions: %+v", names[i], ex)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return browsers
}

// TestTwoBrowsers: two Chromium processes exchange fake camera video
// directly (host candidates on loopback).
func TestTwoBrowsers(t *testing.T) {
	browsers := runTwoBrowsers(t, nil)
	for _, b := range browsers {
		p, err := SelectedCandidatePair(b.Context(), "peer.pc")
		if err != nil || p == nil {
			t.Fatalf("candidate pair: %+v, %v", p, err)
		}
		if p.State != "succeeded" || p.LocalType != "host" || p.RemoteType == "relay" {
			t.Errorf("%s: selected pair %+v, want a succeeded direct pair", b.cfg.name, *p)
		}
	}
}

// TestTwoBrowsersThroughTURN: the same through coturn with
// iceTransportPolicy "relay" and TURN REST API credentials.
func TestTwoBrowsersThroughTURN(t *testing.T) {
	turn := turntest.Start(t)
	browsers := runTwoBrowsers(t, func(name string, cfg *peerConfig) {
		cfg.ICEServers = []turncred.ICEServer{turn.Credentials("peer-" + name)}
		cfg.ICETransportPolicy = "relay"
	})
	for _, b := range browsers {
		p, err := SelectedCandidatePair(b.Context(), "peer.pc")
		if err != nil || p == nil {
			t.Fatalf("candidate pair: %+v, %v", p, err)
		}
		t.Logf("%s: selected pair %+v", b.cfg.name, *p)
		if p.State != "succeeded" || p.LocalType != "relay" || p.RemoteType != "relay" {
			t.Errorf("%s: selected pair %+v, want succeeded relay-relay", b.cfg.name, *p)
		}
		if p.RelayProtocol != "udp" {
			t.Errorf("%s: relay protocol %q, want udp", b.cfg.name, p.RelayProtocol)
		}
		for _, addr := range []string{p.LocalAddress, p.RemoteAddress} {
			port, _ := strconv.Atoi(strings.TrimPrefix(addr, "127.0.0.1:"))
			if port < turn.RelayMin || port > turn.RelayMax {
				t.Errorf("%s: %s is not a relay address of the test's coturn (127.0.0.1:%d-%d)", b.cfg.name, addr, turn.RelayMin, turn.RelayMax)
			}
		}
	}
}

// TestCleanupKillsBrowser: after the test that started it, no process of
// the browser is left (checked with pgrep against its temp directory, which
// is on the command line of all its processes, crashpad handlers included).
func TestCleanupKillsBrowser(t *testing.T) {
	var dir string
	var pid int
	t.Run("browser", func(t *testing.T) {
		b := Start(t, WithName("leak"))
		dir, pid = b.TempDir(), b.PID()
		if n := len(b.Processes()); n < 3 {
			t.Fatalf("found %d processes of the browser, want the browser and its children", n)
		}
		out, err := exec.Command("pgrep", "-f", "--", regexp.QuoteMeta(dir+"/")).Output()
		if err != nil || len(strings.Fields(string(out))) < 2 {
			t.Fatalf("pgrep while running: %q, %v", out, err)
		}
	})
	out, err := exec.Command("pgrep", "-f", "--", regexp.QuoteMeta(dir+"/")).Output()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("pgrep after cleanup: %q, %v (want exit status 1: no processes)", out, err)
	}
	if pids := processesUsing(dir); len(pids) > 0 {
		t.Fatalf("processes left: %v", pids)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
		t.Fatalf("browser process %d still exists", pid)
	}
}

// TestFlags: the command line is the one TESTING.md lists, with the
// loopback flag configurable.
func TestFlags(t *testing.T) {
	for _, loopback := range []bool{true, false} {
		t.Run(fmt.Sprint(loopback), func(t *testing.T) {
			b := Start(t, WithLoopbackInPeerConnection(loopback), WithConsoleLog(false))
			cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", b.PID()))
			if err != nil {
				t.Fatal(err)
			}
			args := strings.Split(string(cmdline), "\x00")
			for _, want := range []string{
				"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
				"--no-default-browser-check", "--disable-background-networking",
				"--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
				"--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
				"--autoplay-policy=no-user-gesture-required", "--disable-background-timer-throttling",
				"--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows",
				"--mute-audio", "--user-data-dir=" + b.UserDataDir(),
			} {
				if !contains(args, want) {
					t.Errorf("command line lacks %s: %q", want, args)
				}
			}
			if got := contains(args, "--allow-loopback-in-peer-connection"); got != loopback {
				t.Errorf("--allow-loopback-in-peer-connection present = %v, want %v", got, loopback)
			}
			for _, a := range args {
				if strings.HasPrefix(a, "--disable-features") || strings.HasPrefix(a, "--enable-automation") {
					t.Errorf("unexpected flag %s", a)
				}
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// fatalRecorder stands in for a testing.T to observe Fatalf.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// TestMissingBinaryFails: a missing Chromium fails (never skips) and says
// how to install it.
func TestMissingBinaryFails(t *testing.T) {
	rec := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Start(rec, WithExecPath(filepath.Join(t.TempDir(), "no-chromium")))
	}()
	<-done
	if !strings.Contains(rec.msg, "apt-get install -y chromium") {
		t.Fatalf("Fatalf message = %q", rec.msg)
	}
}

// TestStartFailureShowsOutput: a browser that exits at once fails Start
// with its output in the message, and cleanup copes with the dead browser.
func TestStartFailureShowsOutput(t *testing.T) {
	fake := filepath.Join(t.TempDir(), "chromium")
	script := "#!/bin/sh\necho 'fake chromium: cannot start' >&2\nexit 3\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	rec := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Start(rec, WithExecPath(fake))
	}()
	<-done
	if !strings.Contains(rec.msg, "fake chromium: cannot start") {
		t.Fatalf("Fatalf message = %q", rec.msg)
	}
}
