package httpapi

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/televisit/televisit/visits"
)

// FuzzDecode: arbitrary bodies never panic the decoder, and every failure
// maps to a 4xx problem whose text does not echo the body.
func FuzzDecode(f *testing.F) {
	f.Add(`{"start_time":"x"}`, "application/json")
	f.Add(`{"patient":{"name":1}}`, "application/json; charset=utf-8")
	f.Add(`{}{}`, "application/json")
	f.Add(`{"duration_minutes":1e999}`, "application/json")
	f.Add("", "text/plain")
	a := &API{cfg: Config{MaxBodyBytes: 4096}}
	f.Fuzz(func(t *testing.T, body, ctype string) {
		r := httptest.NewRequest(http.MethodPost, "/api/v1/visits", strings.NewReader(body))
		r.Header.Set("Content-Type", ctype)
		var nv visits.NewVisit
		err := a.decode(httptest.NewRecorder(), r, &nv)
		if err == nil {
			return
		}
		p := problemFor(err)
		if p.Status < 400 || p.Status >= 500 {
			t.Fatalf("decode error %v maps to %d", err, p.Status)
		}
		if len(body) > 8 && strings.Contains(p.Detail, body) {
			t.Fatalf("problem echoes the body")
		}
		if errors.Is(err, errWritten) {
			t.Fatal("decode claims a response was written")
		}
	})
}
