package staffauth

import (
	"net/url"
	"strings"
	"testing"
)

func FuzzParseBearer(f *testing.F) {
	for _, s := range []string{"Bearer abc.def.ghi", "bearer  x", "Basic abc", "Bearer", "Bearer a b", "Bearer \xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		tok, ok := parseBearer(h)
		if !ok {
			if tok != "" {
				t.Fatal("token returned with ok false")
			}
			return
		}
		if tok == "" || len(tok) > maxBearerBytes || strings.ContainsAny(tok, " \t\r\n\x00") {
			t.Fatalf("accepted %q", tok)
		}
		for i := 0; i < len(tok); i++ {
			if !token68(tok[i]) {
				t.Fatalf("non-token68 byte in %q", tok)
			}
		}
	})
}

func FuzzSanitizeReturnTo(f *testing.F) {
	for _, s := range []string{"/", "/a?b=c", "//x", "/\\x", "https://x", "/%2F%2Fx", "/.//x", "/\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := sanitizeReturnTo(in)
		if out != "/" && out != in {
			t.Fatalf("rewrote %q to %q", in, out)
		}
		if !strings.HasPrefix(out, "/") || strings.HasPrefix(out, "//") || strings.Contains(out, "\\") {
			t.Fatalf("unsafe %q", out)
		}
		u, err := url.Parse(out)
		if err != nil || u.Host != "" || u.Scheme != "" {
			t.Fatalf("%q leaves the site", out)
		}
	})
}

func FuzzCookieToken(f *testing.F) {
	f.Add(newToken())
	f.Add("")
	f.Add(strings.Repeat("A", 43))
	f.Add(strings.Repeat("_", 43))
	f.Fuzz(func(t *testing.T, s string) {
		if validToken(s) && len(s) != tokenLen {
			t.Fatalf("accepted %q", s)
		}
		_ = hashToken(s)
	})
}

func FuzzStringList(f *testing.F) {
	f.Add("admin, clinician scheduler")
	f.Add(strings.Repeat("a,", 500))
	f.Fuzz(func(t *testing.T, s string) {
		out := stringList(s)
		if len(out) > maxClaimValues {
			t.Fatalf("%d values", len(out))
		}
		for _, v := range out {
			if v == "" || len(v) > maxClaimText {
				t.Fatalf("bad value %q", v)
			}
		}
		_ = rolesFrom(out)
	})
}
