package signaling

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/televisit/televisit/visits"
)

func TestConfigDefaultsAndValidation(t *testing.T) {
	c := Config{AllowedOrigins: []string{"HTTPS://App.Example.org:8443"}}
	origins, err := c.validate()
	if err != nil {
		t.Fatal(err)
	}
	if !origins["https://app.example.org:8443"] || len(origins) != 1 {
		t.Fatalf("origins = %v", origins)
	}
	want := Config{AllowedOrigins: c.AllowedOrigins, MaxMessageBytes: 64 << 10, PingInterval: 15 * time.Second,
		PongWait: 45 * time.Second, WriteTimeout: 10 * time.Second, SendQueue: 64, MsgRate: 20, MsgBurst: 40,
		ReauthInterval: 30 * time.Second, CallTimeout: 5 * time.Second, SnapshotInterval: 100 * time.Millisecond, ResumeGrace: 30 * time.Second,
		MaxBadMessages: 10}
	if fmt.Sprint(c) != fmt.Sprint(want) {
		t.Fatalf("defaults\n got %+v\nwant %+v", c, want)
	}

	bad := map[string]func(*Config){
		"no origins":      func(c *Config) { c.AllowedOrigins = nil },
		"wildcard":        func(c *Config) { c.AllowedOrigins = []string{"https://*.example.org"} },
		"star":            func(c *Config) { c.AllowedOrigins = []string{"*"} },
		"path":            func(c *Config) { c.AllowedOrigins = []string{"https://example.org/app"} },
		"trailing slash":  func(c *Config) { c.AllowedOrigins = []string{"https://example.org/"} },
		"ws scheme":       func(c *Config) { c.AllowedOrigins = []string{"wss://example.org"} },
		"no host":         func(c *Config) { c.AllowedOrigins = []string{"https://"} },
		"userinfo":        func(c *Config) { c.AllowedOrigins = []string{"https://u@example.org"} },
		"pong < ping":     func(c *Config) { c.PingInterval, c.PongWait = 10*time.Second, 5*time.Second },
		"tiny limit":      func(c *Config) { c.MaxMessageBytes = 10 },
		"negative queue":  func(c *Config) { c.SendQueue = -1 },
		"negative rate":   func(c *Config) { c.MsgRate = -1 },
		"slow snapshots":  func(c *Config) { c.SnapshotInterval = 2 * time.Second },
		"negative reauth": func(c *Config) { c.ReauthInterval = -time.Second },
	}
	for name, mut := range bad {
		c := Config{AllowedOrigins: []string{"https://example.org"}}
		mut(&c)
		if _, err := c.validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestNewServerRequiresDependencies(t *testing.T) {
	if _, err := NewServer(Config{AllowedOrigins: []string{"https://example.org"}}, nil, nil, nil, nil); err == nil {
		t.Fatal("accepted nil dependencies")
	}
}

func TestDecode(t *testing.T) {
	ok := []string{
		`{"v":1,"type":"ping"}`,
		` {"v":1,"type":"hello","id":"a.b:c-d_1","clinic_id":null,"extra":[1,2]}`,
	}
	for _, s := range ok {
		if _, err := decode([]byte(s)); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	bad := map[string]string{ // message -> the ref the error may carry
		``:                                 "",
		`null`:                             "",
		`[]`:                               "",
		`"x"`:                              "",
		`{"v":1,"type":"ping"`:             "",
		`{"v":1,"type":"ping"} {}`:         "",
		`{"v":"1","type":"ping"}`:          "",
		`{"v":1}`:                          "",
		`{"v":1,"type":"Ping"}`:            "",
		`{"v":1,"type":""}`:                "",
		`{"type":"ping","id":"q"}`:         "q",
		`{"v":2,"type":"ping","id":"q"}`:   "q",
		`{"v":1,"type":"ping","id":"a b"}`: "",
		`{"v":1,"type":"ping","id":7}`:     "",
		"{\"v\":1,\"type\":\"ping\",\"id\":\"" + strings.Repeat("a", 65) + "\"}": "",
		"{\"v\":1,\"type\":\"p\xffing\"}":                                        "",
	}
	for s, ref := range bad {
		m, err := decode([]byte(s))
		var ce *clientError
		if !errors.As(err, &ce) || ce.code != codeBadMessage {
			t.Errorf("%q: err = %v", s, err)
		}
		if m.ID != ref {
			t.Errorf("%q: ref %q, want %q", s, m.ID, ref)
		}
	}
}

func TestTransition(t *testing.T) {
	cases := []struct {
		from, to visits.Status
		want     string
	}{
		{visits.StatusWaiting, visits.StatusInProgress, "admitted"},
		{visits.StatusScheduled, visits.StatusInProgress, "admitted"},
		{visits.StatusInProgress, visits.StatusWaiting, "sent_back"},
		{visits.StatusInProgress, visits.StatusCompleted, "visit_ended"},
		{visits.StatusWaiting, visits.StatusCancelled, "visit_ended"},
		{visits.StatusWaiting, visits.StatusNoShow, "visit_ended"},
		{visits.StatusScheduled, visits.StatusWaiting, ""},
		{visits.StatusWaiting, visits.StatusWaiting, ""},
	}
	for _, c := range cases {
		if got := transition(c.from, c.to); got != c.want {
			t.Errorf("%s -> %s: %q, want %q", c.from, c.to, got, c.want)
		}
	}
}

func TestErrorMapping(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("signaling: step: %w", err) }
	closes := map[error]int{
		wrap(visits.ErrSessionEnded): CloseSessionEnded,
		wrap(visits.ErrUnauthorized): CloseSessionEnded,
		wrap(visits.ErrLinkRevoked):  CloseSessionEnded,
		wrap(visits.ErrForbidden):    CloseForbidden,
		errors.New("boom"):           CloseInternal,
		errTooSlow:                   CloseTooSlow,
		errShutdown:                  CloseGoingAway,
	}
	for err, code := range closes {
		if got := closeFor(err); got == nil || got.code != code {
			t.Errorf("closeFor(%v) = %v, want %d", err, got, code)
		}
	}
	if closeFor(connLost{errors.New("eof")}) != nil {
		t.Error("a lost connection gets a close frame")
	}
	statuses := map[error]int{
		wrap(visits.ErrUnauthorized): http.StatusUnauthorized,
		wrap(visits.ErrSessionEnded): http.StatusUnauthorized,
		wrap(visits.ErrForbidden):    http.StatusForbidden,
		errors.New("db down"):        http.StatusInternalServerError,
	}
	for err, want := range statuses {
		if got := httpStatus(err); got != want {
			t.Errorf("httpStatus(%v) = %d, want %d", err, got, want)
		}
	}
	if ce, known := clientErrorFor(errors.New("SELECT secret FROM visits")); known || ce.code != codeInternal ||
		strings.Contains(ce.message, "SELECT") {
		t.Errorf("internal error leaks: %+v", ce)
	}
}
