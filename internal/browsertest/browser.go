package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/televisit/televisit/internal/syncbuf"
)

const (
	startTimeout  = 60 * time.Second // first launch under -race on 2 busy cores
	closeTimeout  = 10 * time.Second
	maxLogText    = 400 // characters of one console message in the test log
	outputTailLen = 8000
)

// Browser is one running Chromium process.
//
// It holds chromedp contexts: they are handles to the browser and its tabs,
// which live as long as the test, not request-scoped contexts.
type Browser struct {
	t           testing.TB
	cfg         config
	dir         string // temp dir holding profile, config and cache
	userDataDir string
	output      syncbuf.Buffer // Chromium's stdout and stderr

	allocCancel context.CancelFunc
	ctx         context.Context // first tab; parent of NewTab's tabs
	cancel      context.CancelFunc
	pid         int

	consoleWG sync.WaitGroup
	mu        sync.Mutex
	messages  []Message
	tabs      int

	logMu  sync.Mutex
	closed bool // no more logging: the test may complete
}

// Message is a console message or an uncaught exception of a tab.
type Message struct {
	Tab       string
	Type      string // log, info, warning, error, exception, ...
	Text      string
	Exception bool
}

// Start launches a headless Chromium with fake media devices and its own
// profile directory, and opens its first tab. The browser and every process
// it started are killed when the test ends; a missing binary fails the test.
func Start(t testing.TB, opts ...Option) *Browser {
	t.Helper()
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if fi, err := os.Stat(cfg.execPath); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		t.Fatalf("browsertest: Chromium not found at %s; install it: %s", cfg.execPath, InstallHint)
	}
	b := &Browser{t: t, cfg: cfg, dir: t.TempDir()}
	b.userDataDir = filepath.Join(b.dir, "profile")
	allocOpts := append(cfg.allocatorOptions(b.userDataDir),
		chromedp.CombinedOutput(&b.output),
		// Keep Chromium's config and cache (crashpad's database, dconf) in
		// the temp dir too, not in $HOME: tests leave nothing behind, and
		// every process of the browser has the temp dir on its command line.
		chromedp.Env("XDG_CONFIG_HOME="+filepath.Join(b.dir, "config"), "XDG_CACHE_HOME="+filepath.Join(b.dir, "cache")),
	)
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), allocOpts...)
	b.allocCancel = allocCancel
	b.ctx, b.cancel = chromedp.NewContext(allocCtx, chromedp.WithErrorf(b.logf), chromedp.WithLogf(b.logf))
	t.Cleanup(b.close) // registered after t.TempDir's cleanup, so it runs first

	// The first action starts the browser, which lives as long as the
	// context of that action: it must be b.ctx, not one with a timeout.
	timer := time.AfterFunc(startTimeout, b.cancel)
	err := chromedp.Do(b.ctx)
	if !timer.Stop() {
		err = fmt.Errorf("not ready within %s: %w", startTimeout, err)
	}
	if err != nil {
		t.Fatalf("browsertest: start %s: %v\n%s", cfg.execPath, err, b.outputTail())
	}
	b.pid = chromedp.FromContext(b.ctx).Browser.Process().Pid
	b.watchConsole(b.ctx, cfg.name)
	return b
}

// Context is the chromedp context of the browser's first tab. Derive
// timeouts from it with context.WithTimeout; cancelling it closes the
// browser, which the test's cleanup does.
func (b *Browser) Context() context.Context { return b.ctx }

// NewTab opens another tab in the same browser; it closes when the test
// ends.
func (b *Browser) NewTab(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	timer := time.AfterFunc(startTimeout, cancel)
	err := chromedp.Do(ctx)
	if !timer.Stop() {
		err = fmt.Errorf("not ready within %s: %w", startTimeout, err)
	}
	if err != nil {
		cancel()
		t.Fatalf("browsertest: new tab: %v", err)
	}
	var wg sync.WaitGroup
	b.watchConsoleWG(ctx, fmt.Sprintf("%s/tab%d", b.cfg.name, b.tabCount()), &wg)
	t.Cleanup(func() { cancel(); wg.Wait() })
	return ctx
}

// PID is the process id of the main browser process.
func (b *Browser) PID() int { return b.pid }

// UserDataDir is the browser's profile directory (--user-data-dir).
func (b *Browser) UserDataDir() string { return b.userDataDir }

// TempDir holds the profile, config and cache directories; every process of
// this browser, crashpad handlers included, has it on its command line.
func (b *Browser) TempDir() string { return b.dir }

// Processes lists the pids of the browser's processes.
func (b *Browser) Processes() []int { return processesUsing(b.dir) }

// Messages returns the console messages and exceptions seen so far.
func (b *Browser) Messages() []Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Message(nil), b.messages...)
}

// Exceptions returns the uncaught exceptions seen so far.
func (b *Browser) Exceptions() []Message {
	var out []Message
	for _, m := range b.Messages() {
		if m.Exception {
			out = append(out, m)
		}
	}
	return out
}

func (b *Browser) tabCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tabs++
	return b.tabs
}

func (b *Browser) watchConsole(ctx context.Context, label string) {
	b.watchConsoleWG(ctx, label, &b.consoleWG)
}

// watchConsoleWG records the tab's console until ctx ends; wg tracks the
// goroutine so that cleanup can wait for it before the test completes.
func (b *Browser) watchConsoleWG(ctx context.Context, label string, wg *sync.WaitGroup) {
	messages := chromedp.Console(ctx)
	wg.Go(func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.record(Message{Tab: label, Type: string(m.Type), Text: m.Text, Exception: m.IsException()})
		}
	})
}

func (b *Browser) record(m Message) {
	b.mu.Lock()
	b.messages = append(b.messages, m)
	b.mu.Unlock()
	if b.cfg.logConsole {
		b.logf("browser %s console.%s: %s", m.Tab, m.Type, truncate(m.Text, maxLogText))
	}
}

// logf writes to the test log until the browser is closed; chromedp's and
// the console's goroutines call it, and t.Logf must not run after the test
// completes.
func (b *Browser) logf(format string, args ...any) {
	b.logMu.Lock()
	defer b.logMu.Unlock()
	if !b.closed {
		b.t.Logf(format, args...)
	}
}

// close shuts the browser down gracefully, then kills whatever is left of
// its process tree.
func (b *Browser) close() {
	if b.t.Failed() {
		b.t.Logf("browsertest: %s output (tail):\n%s", b.cfg.name, b.outputTail())
	}
	ctx, cancel := context.WithTimeout(b.ctx, closeTimeout)
	if err := chromedp.Cancel(ctx); err != nil && !errors.Is(err, context.Canceled) &&
		!errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, chromedp.ErrInvalidContext) {
		b.t.Logf("browsertest: close %s: %v", b.cfg.name, err)
	}
	cancel()
	b.cancel()
	b.allocCancel() // waits for the main process
	b.consoleWG.Wait()
	if n := killProcessTree(b.dir); n > 0 {
		b.t.Logf("browsertest: killed %d leftover Chromium processes of %s", n, b.cfg.name)
	}
	if b.pid != 0 {
		if err := syscall.Kill(b.pid, 0); err == nil {
			b.t.Errorf("browsertest: browser process %d still alive after cleanup", b.pid)
		}
	}
	b.logMu.Lock()
	b.closed = true
	b.logMu.Unlock()
}

// outputTail is the end of Chromium's output without the D-Bus noise of a
// machine without a session bus.
func (b *Browser) outputTail() string {
	var lines []string
	for _, l := range strings.Split(b.output.String(), "\n") {
		if !strings.Contains(l, ":ERROR:dbus/") {
			lines = append(lines, l)
		}
	}
	s := strings.Join(lines, "\n")
	if len(s) > outputTailLen {
		s = "..." + s[len(s)-outputTailLen:]
	}
	return strings.TrimSpace(s)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
