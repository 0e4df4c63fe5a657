package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/televisit/televisit/internal/browsertest"
)

// TestCallGlare runs static/call.js in real Chromium against a fake SFU in
// the page (testdata/glare.js) whose offer crosses the client's: the page
// must answer the server's offer (rolling its own back) and, after the
// glare error, offer again; media then flows both ways.
func TestCallGlare(t *testing.T) {
	mux := http.NewServeMux()
	Register(mux)
	mux.Handle("GET /testdata/", http.StripPrefix("/testdata/", http.FileServer(http.Dir("testdata"))))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'")
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	b := browsertest.Start(t, browsertest.WithName("glare"))
	tab := b.Context()
	if err := browsertest.Navigate(tab, srv.URL+"/testdata/glare.html"); err != nil {
		t.Fatal(err)
	}
	if err := browsertest.WaitFor(tab, "!!window.glare", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := browsertest.Eval[bool](tab, "window.glare.start()"); err != nil {
		t.Fatal(err)
	}
	// The client decodes the server's video (its answer to the server's
	// offer worked) and the server the client's (the second offer worked).
	if _, err := browsertest.WaitFramesDecoded(tab, "window.call.pc", 10, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := browsertest.WaitFor(tab, `window.glare.serverFrames().then((n) => n > 10)`, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := browsertest.WaitFor(tab, `window.call.pc.signalingState === "stable" && window.glare.spc.signalingState === "stable"`, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	seq, err := browsertest.Eval[[]string](tab, `window.glare.log.filter((m) => !m.endsWith(":candidate"))`)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(seq, " ")
	want := "client:join client:offer server:offer server:error:glare client:answer client:offer server:answer"
	if !strings.HasPrefix(got, want) {
		t.Errorf("messages %q; want them to start with %q", got, want)
	}
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("page exceptions: %+v", ex)
	}
}
