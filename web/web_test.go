package web

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestPages(t *testing.T) {
	mux := http.NewServeMux()
	Register(mux)
	tests := []struct {
		path, wantType, wantBody string
		wantStatus               int
	}{
		{"/", "text/html; charset=utf-8", `href="/auth/login"`, 200},
		{"/join", "text/html; charset=utf-8", `src="/static/join.js"`, 200},
		{"/call", "text/html; charset=utf-8", `src="/static/staff-call.js"`, 200},
		{"/guest", "text/html; charset=utf-8", `src="/static/guest.js"`, 200},
		{"/static/controls.js", "text/javascript; charset=utf-8", "export function mountControls", 200},
		{"/static/call.css", "text/css; charset=utf-8", ".recording-indicator", 200},
		{"/schedule", "text/html; charset=utf-8", `src="/static/schedule.js"`, 200},
		{"/console", "text/html; charset=utf-8", `src="/static/console.js"`, 200},
		{"/admin", "text/html; charset=utf-8", `src="/static/admin.js"`, 200},
		{"/static/admin.css", "text/css; charset=utf-8", ".job-failed", 200},
		{"/static/call.js", "text/javascript; charset=utf-8", "export class Call", 200},
		{"/static/style.css", "text/css; charset=utf-8", "font-family", 200},
		{"/nothing", "", "", 404},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", tt.path, nil))
		body, _ := io.ReadAll(rec.Body)
		if rec.Code != tt.wantStatus || (tt.wantType != "" && rec.Header().Get("Content-Type") != tt.wantType) ||
			!strings.Contains(string(body), tt.wantBody) {
			t.Errorf("GET %s: %d %q %q", tt.path, rec.Code, rec.Header().Get("Content-Type"), body)
		}
	}
}

// TestNoInlineScriptOrStyle keeps the pages working under script-src and
// style-src 'self'.
func TestNoInlineScriptOrStyle(t *testing.T) {
	for _, name := range []string{"static/index.html", "static/join.html", "static/call.html", "static/guest.html", "static/schedule.html", "static/console.html", "static/admin.html"} {
		b, err := static.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		s := strings.ToLower(string(b))
		for _, bad := range []string{"<script>", "<style", " style=", " onclick=", " onload=", "javascript:"} {
			if strings.Contains(s, bad) {
				t.Errorf("%s contains %q", name, bad)
			}
		}
	}
}

// TestScriptsLogNoData keeps PHI out of browser consoles: the pages' scripts
// use no console.log at all, and warn only with fixed texts.
func TestScriptsLogNoData(t *testing.T) {
	names, err := fs.Glob(static, "static/*.js")
	if err != nil || len(names) < 10 {
		t.Fatalf("scripts %v (%v)", names, err)
	}
	for _, name := range names {
		b, err := static.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "console.log") {
			t.Errorf("%s uses console.log", name)
		}
	}
}
