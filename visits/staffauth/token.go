package staffauth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

const (
	tokenLen       = 43   // base64url of 32 bytes, no padding
	maxBearerBytes = 8192 // longer Authorization values are refused unread
)

// newToken returns 32 random bytes, base64url without padding.
func newToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// validToken reports whether s has the shape of a token from newToken.
func validToken(s string) bool {
	if len(s) != tokenLen {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil && len(b) == 32
}

// loginKey is the oidc_logins key: the state bound to the browser's login
// cookie, so a state only works in the browser that started the sign-in.
func loginKey(binding, state string) []byte {
	h := sha256.Sum256([]byte("staffauth.login\x00" + binding + "\x00" + state))
	return h[:]
}

// parseBearer returns the token of an "Authorization: Bearer <token>"
// header value. ok is false for any other scheme or a malformed value.
func parseBearer(h string) (token string, ok bool) {
	if len(h) > maxBearerBytes {
		return "", false
	}
	scheme, rest, found := strings.Cut(h, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimLeft(rest, " ")
	if token == "" {
		return "", false
	}
	for i := 0; i < len(token); i++ {
		if !token68(token[i]) {
			return "", false
		}
	}
	return token, true
}

// token68 is the character set of RFC 7235's token68, which covers JWTs.
func token68(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("-._~+/=", c) >= 0
}
