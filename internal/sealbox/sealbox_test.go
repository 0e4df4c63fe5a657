package sealbox

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func mustRing(t testing.TB, current string, keys map[string][]byte) *Keyring {
	t.Helper()
	k, err := NewKeyring(current, keys)
	if err != nil {
		t.Fatalf("NewKeyring: %v", err)
	}
	return k
}

func mustSeal(t testing.TB, k *Keyring, plain, aad []byte) []byte {
	t.Helper()
	s, err := k.Seal(plain, aad)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	return s
}

func TestRoundTrip(t *testing.T) {
	k := mustRing(t, "k1", map[string][]byte{"k1": testKey(1)})
	for _, plain := range [][]byte{nil, {}, []byte("Jane Doe"), bytes.Repeat([]byte{0xff}, 10000)} {
		for _, aad := range [][]byte{nil, []byte("visits/123/patient_name")} {
			sealed := mustSeal(t, k, plain, aad)
			if want := 2 + len("k1") + nonceSize + len(plain) + tagSize; len(sealed) != want {
				t.Fatalf("sealed length %d, want %d", len(sealed), want)
			}
			got, err := k.Open(sealed, aad)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !bytes.Equal(got, plain) {
				t.Fatalf("round trip changed the plaintext")
			}
		}
	}
}

func TestLayout(t *testing.T) {
	k := mustRing(t, "key-2024", map[string][]byte{"key-2024": testKey(1)})
	sealed := mustSeal(t, k, []byte("x"), nil)
	if sealed[0] != 1 || int(sealed[1]) != len("key-2024") || string(sealed[2:10]) != "key-2024" {
		t.Fatalf("header is %x", sealed[:10])
	}
	again := mustSeal(t, k, []byte("x"), nil)
	if bytes.Equal(sealed[10:22], again[10:22]) {
		t.Fatalf("two seals used the same nonce")
	}
}

func TestAADMismatch(t *testing.T) {
	k := mustRing(t, "k1", map[string][]byte{"k1": testKey(1)})
	sealed := mustSeal(t, k, []byte("1980-02-29"), []byte("visits/a/patient_dob"))
	for _, aad := range [][]byte{nil, []byte("visits/b/patient_dob"), []byte("visits/a/patient_name"), []byte("visits/a/patient_dob ")} {
		if _, err := k.Open(sealed, aad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("Open with aad %q: err = %v, want ErrCorrupt", aad, err)
		}
	}
}

func TestTamperEveryByte(t *testing.T) {
	const plain = "Jane Doe, 1980-02-29"
	k := mustRing(t, "k1", map[string][]byte{"k1": testKey(1), "k2": testKey(2)})
	aad := []byte("visits/a/patient_name")
	sealed := mustSeal(t, k, []byte(plain), aad)
	idEnd := 2 + len("k1")
	region := func(i int) string {
		switch {
		case i == 0:
			return "version"
		case i == 1:
			return "key id length"
		case i < idEnd:
			return "key id"
		case i < idEnd+nonceSize:
			return "nonce"
		case i < len(sealed)-tagSize:
			return "ciphertext"
		}
		return "tag"
	}
	seen := map[string]bool{}
	for i := range sealed {
		for _, bit := range []byte{0x01, 0x80} {
			bad := bytes.Clone(sealed)
			bad[i] ^= bit
			_, err := k.Open(bad, aad)
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnknownKey) {
				t.Fatalf("flip %#x in %s (byte %d): err = %v", bit, region(i), i, err)
			}
			if strings.Contains(err.Error(), plain) {
				t.Fatalf("error carries plaintext")
			}
			seen[region(i)] = true
		}
	}
	if len(seen) != 6 {
		t.Fatalf("regions covered: %v", seen)
	}
	// Re-labelling with another id of the ring fails even when both ids name
	// the same key bytes: the header is authenticated.
	same := mustRing(t, "k1", map[string][]byte{"k1": testKey(1), "k2": testKey(1)})
	relabel := bytes.Clone(sealed)
	copy(relabel[2:4], "k2")
	if _, err := same.Open(relabel, aad); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("relabelled key id: err = %v, want ErrCorrupt", err)
	}
}

func TestTruncatedAndExtended(t *testing.T) {
	k := mustRing(t, "k1", map[string][]byte{"k1": testKey(1)})
	sealed := mustSeal(t, k, []byte("hello"), nil)
	for n := 0; n < len(sealed); n++ {
		if _, err := k.Open(sealed[:n], nil); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d bytes: err = %v, want ErrCorrupt", n, err)
		}
	}
	if _, err := k.Open(append(bytes.Clone(sealed), 0), nil); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("extended: err = %v, want ErrCorrupt", err)
	}
}

func TestRotation(t *testing.T) {
	old := mustRing(t, "2024", map[string][]byte{"2024": testKey(1)})
	sealedOld := mustSeal(t, old, []byte("note"), []byte("aad"))

	rotated := mustRing(t, "2025", map[string][]byte{"2025": testKey(2), "2024": testKey(1)})
	if rotated.CurrentID() != "2025" {
		t.Fatalf("CurrentID = %q", rotated.CurrentID())
	}
	got, err := rotated.Open(sealedOld, []byte("aad"))
	if err != nil || string(got) != "note" {
		t.Fatalf("open old value with rotated ring: %q, %v", got, err)
	}
	sealedNew := mustSeal(t, rotated, []byte("note"), []byte("aad"))
	if string(sealedNew[2:6]) != "2025" {
		t.Fatalf("rotated ring sealed under %q", sealedNew[2:6])
	}
	// The old ring cannot read what the new key sealed.
	if _, err := old.Open(sealedNew, []byte("aad")); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("old ring on new value: err = %v, want ErrUnknownKey", err)
	}
}

func TestUnknownKey(t *testing.T) {
	a := mustRing(t, "a", map[string][]byte{"a": testKey(1)})
	b := mustRing(t, "b", map[string][]byte{"b": testKey(1)}) // same bytes, other id
	_, err := b.Open(mustSeal(t, a, []byte("x"), nil), nil)
	if !errors.Is(err, ErrUnknownKey) || errors.Is(err, ErrCorrupt) {
		t.Fatalf("err = %v, want ErrUnknownKey", err)
	}
	if !strings.Contains(err.Error(), `"a"`) {
		t.Fatalf("error %q does not name the key id", err)
	}
}

func TestParseKeyring(t *testing.T) {
	k1 := base64.StdEncoding.EncodeToString(testKey(1))
	// 0xfb bytes encode to '+' / '-' and '/' / '_': only URL-safe accepts '-' and '_'.
	k2raw := bytes.Repeat([]byte{0xfb, 0xff, 0xbf}, 11)[:KeySize]
	k2url := base64.RawURLEncoding.EncodeToString(k2raw)
	k, err := ParseKeyring(" new:" + k2url + " , old:" + k1 + " ")
	if err != nil {
		t.Fatalf("ParseKeyring: %v", err)
	}
	if k.CurrentID() != "new" {
		t.Fatalf("CurrentID = %q, want the first entry", k.CurrentID())
	}
	want := mustRing(t, "new", map[string][]byte{"new": k2raw})
	if _, err := k.Open(mustSeal(t, want, []byte("x"), nil), nil); err != nil {
		t.Fatalf("URL-safe key decoded wrongly: %v", err)
	}
	oldOnly := mustRing(t, "old", map[string][]byte{"old": testKey(1)})
	if _, err := k.Open(mustSeal(t, oldOnly, []byte("x"), nil), nil); err != nil {
		t.Fatalf("second key does not open: %v", err)
	}
}

func TestParseKeyringErrors(t *testing.T) {
	good := base64.StdEncoding.EncodeToString(testKey(7))
	short := base64.StdEncoding.EncodeToString(testKey(7)[:31])
	long := base64.StdEncoding.EncodeToString(append(testKey(7), 7))
	cases := []struct{ name, spec, want string }{
		{"empty", "", "empty"},
		{"blank", "  ", "empty"},
		{"no colon", good, "entry 1: want"},
		{"empty id", ":" + good, "entry 1: key id"},
		{"bad id char", "a b:" + good, "entry 1: key id"},
		{"id too long", strings.Repeat("a", 33) + ":" + good, "entry 1: key id"},
		{"empty key", "a:", "entry 1: key is empty"},
		{"not base64", "a:" + good[:20] + "!!" + good[22:], "entry 1: key is not valid base64"},
		{"short key", "a:" + short, "entry 1: key must be 32 bytes, got 31"},
		{"long key", "a:" + long, "entry 1: key must be 32 bytes, got 33"},
		{"duplicate", "a:" + good + ",b:" + good + ",a:" + good, `entry 3: duplicate key id "a"`},
		{"empty entry", "a:" + good + ",", "entry 2: want"},
		{"second bad", "a:" + good + ",b:" + short, "entry 2: key must be 32 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k, err := ParseKeyring(c.spec)
			if err == nil {
				t.Fatalf("ParseKeyring accepted %q: %v", c.spec, k)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not contain %q", err, c.want)
			}
			for _, secret := range []string{good, short, long, good[:20]} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error %q contains key material", err)
				}
			}
		})
	}
}

func TestNewKeyringErrors(t *testing.T) {
	cases := []struct {
		name    string
		current string
		keys    map[string][]byte
	}{
		{"empty", "a", nil},
		{"current missing", "b", map[string][]byte{"a": testKey(1)}},
		{"bad id", "a/b", map[string][]byte{"a/b": testKey(1)}},
		{"short key", "a", map[string][]byte{"a": testKey(1)[:16]}},
	}
	for _, c := range cases {
		if _, err := NewKeyring(c.current, c.keys); err == nil {
			t.Errorf("%s: NewKeyring accepted", c.name)
		}
	}
}

func TestGenerateSpec(t *testing.T) {
	a, err := GenerateSpec("dev-1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := GenerateSpec("dev-2")
	k, err := ParseKeyring(a + "," + b)
	if err != nil {
		t.Fatalf("generated spec does not parse: %v", err)
	}
	if k.CurrentID() != "dev-1" {
		t.Fatalf("CurrentID = %q", k.CurrentID())
	}
	if a[len("dev-1:"):] == b[len("dev-2:"):] {
		t.Fatal("two generated keys are equal")
	}
	if _, err := GenerateSpec("bad id"); err == nil {
		t.Fatal("GenerateSpec accepted a bad id")
	}
}

func TestStringHidesKeys(t *testing.T) {
	key := testKey(0x5a)
	k := mustRing(t, "k1", map[string][]byte{"k1": key})
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%+v", k), fmt.Sprintf("%#v", k), fmt.Sprintf("%v", struct{ K *Keyring }{k})} {
		if strings.Contains(s, string(key)) || strings.Contains(s, "5a5a") || strings.Contains(s, "90 90") {
			t.Fatalf("printed ring shows key material: %s", s)
		}
	}
}
