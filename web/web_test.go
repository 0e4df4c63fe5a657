package web

import (
	"io"
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
		{"/join", "text/html; charset=utf-8", "later version", 200},
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
	for _, name := range []string{"static/index.html", "static/join.html"} {
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
