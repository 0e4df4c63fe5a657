package sealbox

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func FuzzOpen(f *testing.F) {
	k := mustRing(f, "k1", map[string][]byte{"k1": testKey(1), "k2": testKey(2)})
	other := mustRing(f, "zz", map[string][]byte{"zz": testKey(3)})
	aad := []byte("visits/a/reason")
	f.Add(mustSeal(f, k, []byte("chest pain"), aad), aad)
	f.Add(mustSeal(f, k, nil, nil), []byte{})
	f.Add(mustSeal(f, other, []byte("x"), aad), aad)
	f.Add([]byte{}, []byte{})
	f.Add([]byte{1, 2, 'k', '1'}, aad)
	f.Add([]byte{1, 255}, aad)
	f.Fuzz(func(t *testing.T, sealed, aad []byte) {
		plain, err := k.Open(sealed, aad)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnknownKey) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		// Whatever opens must re-seal and open to the same plaintext.
		again, err := k.Open(mustSeal(t, k, plain, aad), aad)
		if err != nil || string(again) != string(plain) {
			t.Fatalf("re-seal round trip failed: %v", err)
		}
	})
}

func FuzzParseKeyring(f *testing.F) {
	good := base64.StdEncoding.EncodeToString(testKey(1))
	f.Add("k1:" + good)
	f.Add("k1:" + good + ",k2:" + base64.RawURLEncoding.EncodeToString(testKey(2)))
	f.Add("k1:" + good + ",k1:" + good)
	f.Add(":,:")
	f.Add("a:b:c")
	f.Fuzz(func(t *testing.T, spec string) {
		k, err := ParseKeyring(spec)
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "sealbox: ") {
				t.Fatalf("error without package prefix: %q", msg)
			}
			for _, entry := range strings.Split(spec, ",") {
				_, key, _ := strings.Cut(entry, ":")
				if len(key) >= 8 && strings.Contains(msg, key) {
					t.Fatalf("error %q repeats key material", msg)
				}
			}
			return
		}
		if !validID(k.CurrentID()) {
			t.Fatalf("current id %q is invalid", k.CurrentID())
		}
		got, err := k.Open(mustSeal(t, k, []byte("x"), nil), nil)
		if err != nil || string(got) != "x" {
			t.Fatalf("parsed ring does not round trip: %v", err)
		}
	})
}
