package server

import (
	"errors"
	"net"
	"net/netip"
	"time"
)

// Config configures the HTTP server. Zero durations take the defaults
// shown.
type Config struct {
	Addr string // host:port; required
	// TLS says the server terminates TLS (ListenAndServeTLS with these
	// files); it also turns on Strict-Transport-Security.
	TLSCertFile, TLSKeyFile string
	// TrustedProxies may set X-Forwarded-For; the client address is then
	// the rightmost address not in this list.
	TrustedProxies []netip.Prefix

	ReadHeaderTimeout time.Duration // default 10s
	IdleTimeout       time.Duration // keep-alive; default 2m
	// BodyTimeout bounds reading a request body and WriteTimeout writing a
	// response, per request; WebSocket upgrades are exempt (the signaling
	// server sets its own deadlines). Defaults 1m and 2m.
	BodyTimeout     time.Duration
	WriteTimeout    time.Duration
	MaxHeaderBytes  int           // default 64 KiB
	ShutdownTimeout time.Duration // graceful shutdown; default 20s
}

// TLS reports whether the server terminates TLS.
func (c *Config) TLS() bool { return c.TLSCertFile != "" }

func (c *Config) validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return errors.New("server: Addr must be host:port")
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return errors.New("server: TLSCertFile and TLSKeyFile go together")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.ReadHeaderTimeout, 10*time.Second)
	def(&c.IdleTimeout, 2*time.Minute)
	def(&c.BodyTimeout, time.Minute)
	def(&c.WriteTimeout, 2*time.Minute)
	def(&c.ShutdownTimeout, 20*time.Second)
	if c.MaxHeaderBytes == 0 {
		c.MaxHeaderBytes = 64 << 10
	}
	if c.ReadHeaderTimeout < 0 || c.IdleTimeout < 0 || c.BodyTimeout < 0 || c.WriteTimeout < 0 ||
		c.ShutdownTimeout < 0 || c.MaxHeaderBytes < 0 {
		return errors.New("server: timeouts and sizes must not be negative")
	}
	return nil
}
