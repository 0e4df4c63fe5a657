package browsertest

import (
	"github.com/chromedp/chromedp"
)

// DefaultExecPath is the Chromium binary that Debian's chromium package
// installs. /usr/bin/chromium is a wrapper script that adds flags of its
// own, so the harness runs the binary directly.
const DefaultExecPath = "/usr/lib/chromium/chromium"

// InstallHint is the command that installs Chromium.
const InstallHint = "make deps (or: apt-get install -y chromium)"

// Option configures Start.
type Option func(*config)

type config struct {
	execPath      string
	name          string
	loopbackPeers bool
	logConsole    bool
	extraFlags    []flag
}

type flag struct {
	name  string
	value any
}

func defaultConfig() config {
	return config{execPath: DefaultExecPath, name: "browser", loopbackPeers: true, logConsole: true}
}

// WithExecPath runs another Chromium binary.
func WithExecPath(path string) Option { return func(c *config) { c.execPath = path } }

// WithName labels the browser's lines in the test log, e.g. "patient".
func WithName(name string) Option { return func(c *config) { c.name = name } }

// WithLoopbackInPeerConnection sets --allow-loopback-in-peer-connection
// (default on). Without it Chromium gathers no ICE candidates on a host
// that has only a loopback interface.
func WithLoopbackInPeerConnection(on bool) Option {
	return func(c *config) { c.loopbackPeers = on }
}

// WithConsoleLog copies console messages and page exceptions into the test
// log (default on).
func WithConsoleLog(on bool) Option { return func(c *config) { c.logConsole = on } }

// WithFlag adds or overrides one command-line flag: a bool value true adds
// --name, false removes it; a string adds --name=value.
func WithFlag(name string, value any) Option {
	return func(c *config) { c.extraFlags = append(c.extraFlags, flag{name, value}) }
}

// allocatorOptions builds the command line from scratch, not from
// chromedp.DefaultExecAllocatorOptions (whose disable-features a second
// flag of that name would replace): the flags listed in TESTING.md.
func (c config) allocatorOptions(userDataDir string) []chromedp.ExecAllocatorOption {
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(c.execPath)}
	set := func(name string, value any) { opts = append(opts, chromedp.Flag(name, value)) }
	for _, name := range []string{
		"headless", "no-sandbox", "disable-gpu", "disable-quic",
		"no-first-run", "no-default-browser-check",
		"disable-background-networking", "disable-component-update",
		"disable-sync", "disable-dev-shm-usage",
		"use-fake-device-for-media-stream", "use-fake-ui-for-media-stream",
		"disable-background-timer-throttling", "disable-renderer-backgrounding",
		"disable-backgrounding-occluded-windows", "mute-audio",
	} {
		set(name, true)
	}
	set("autoplay-policy", "no-user-gesture-required")
	set("allow-loopback-in-peer-connection", c.loopbackPeers)
	set("user-data-dir", userDataDir)
	for _, f := range c.extraFlags {
		set(f.name, f.value)
	}
	return opts
}
