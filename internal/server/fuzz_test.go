package server

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

// FuzzForwardedFor: whatever X-Forwarded-For says, the client address is
// never a trusted proxy and never taken from an untrusted peer.
func FuzzForwardedFor(f *testing.F) {
	for _, s := range []string{"203.0.113.9", "203.0.113.9, 10.0.0.1", "garbage", "", "::ffff:10.0.0.1, 2001:db8::1", ",,,"} {
		f.Add(s, true)
	}
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.0/8")}
	f.Fuzz(func(t *testing.T, xff string, fromProxy bool) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "198.51.100.1:1234"
		if fromProxy {
			r.RemoteAddr = "10.1.1.1:1234"
		}
		r.Header.Set("X-Forwarded-For", xff)
		a, ok := forwardedFor(r, trusted)
		if ok && (!fromProxy || isTrusted(a, trusted)) {
			t.Fatalf("xff %q from proxy=%v gave %v", xff, fromProxy, a)
		}
	})
}
