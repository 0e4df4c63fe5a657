package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func TestHealthcheckExitCodes(t *testing.T) {
	var ready atomic.Bool
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" || !ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	cases := []struct {
		name  string
		args  []string
		ready bool
		want  int
	}{
		{"ready over TLS", []string{srv.URL + "/readyz"}, true, 0},
		{"not ready", []string{srv.URL + "/readyz"}, false, 1},
		{"wrong path", []string{srv.URL + "/nope"}, true, 1},
		{"nothing listening", []string{"-timeout", "1s", closedURL + "/readyz"}, true, 1},
		{"not loopback", []string{"https://example.org/readyz"}, true, 2},
		{"not a URL", []string{"::"}, true, 2},
		{"no argument", nil, true, 2},
		{"bad flag", []string{"-nope", srv.URL}, true, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ready.Store(c.ready)
			var stderr bytes.Buffer
			if got := run(c.args, &stderr); got != c.want {
				t.Fatalf("exit %d, want %d; stderr: %s", got, c.want, stderr.String())
			}
			if c.want != 0 && strings.TrimSpace(stderr.String()) == "" {
				t.Fatal("a failure must say why on stderr")
			}
		})
	}
}
