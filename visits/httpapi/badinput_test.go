package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/televisit/televisit/visits"
)

type problemBody struct {
	Type, Title, Detail, Field string
	Status                     int
}

// Bad input gets a clear 4xx problem and changes nothing stored.
func TestBadInputIsRefusedAndChangesNothing(t *testing.T) {
	e := newEnv(t)
	sched := bearer(e.tokens["api-scheduler"])
	v, _ := e.visit(visits.StatusScheduled)
	tomorrow := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	good := `{"clinic_id":"` + e.north.ID.String() + `","starts_at":"` + tomorrow + `","duration_minutes":15,` +
		`"patient":{"name":"Grace Hopper","date_of_birth":"1970-01-01"}}`
	cases := []struct {
		name, method, path, body, ctype string
		status                          int
		field                           string
	}{
		{"malformed JSON", "POST", "/api/v1/visits", `{"clinic_id": `, "application/json", 400, ""},
		{"not an object", "POST", "/api/v1/visits", `[1,2]`, "application/json", 400, ""},
		{"two objects", "POST", "/api/v1/visits", good + good, "application/json", 400, ""},
		{"empty body", "POST", "/api/v1/visits", ``, "application/json", 400, ""},
		{"unknown field", "POST", "/api/v1/visits", strings.Replace(good, `"duration`, `"ssn":"1","duration`, 1), "application/json", 400, "ssn"},
		{"wrong type", "POST", "/api/v1/visits", strings.Replace(good, `"duration_minutes":15`, `"duration_minutes":"fifteen"`, 1), "application/json", 400, "duration_minutes"},
		{"bad time", "POST", "/api/v1/visits", strings.Replace(good, tomorrow, `tomorrow`, 1), "application/json", 400, ""},
		{"bad date of birth", "POST", "/api/v1/visits", strings.Replace(good, `1970-01-01`, `01/01/1970`, 1), "application/json", 400, "patient.date_of_birth"},
		{"bad clinic id", "POST", "/api/v1/visits", strings.Replace(good, e.north.ID.String(), `north`, 1), "application/json", 400, ""},
		{"unknown clinic", "POST", "/api/v1/visits", strings.Replace(good, e.north.ID.String(), `00000000-0000-4000-8000-000000000000`, 1), "application/json", 403, ""},
		{"form content type", "POST", "/api/v1/visits", good, "application/x-www-form-urlencoded", 415, ""},
		{"oversize body", "POST", "/api/v1/visits", `{"reason":"` + strings.Repeat("a", 70<<10) + `"}`, "application/json", 413, ""},
		{"unknown visit", "GET", "/api/v1/visits/5f0f6a4c-3b7e-4a53-9d43-1b1c3c1e2a11", "", "", 404, ""},
		{"malformed visit id", "GET", "/api/v1/visits/not-a-uuid", "", "", 404, ""},
		{"unknown route", "GET", "/api/v1/nothing-here", "", "", 404, ""},
		{"bad list date", "GET", "/api/v1/clinics/" + e.north.ID.String() + "/visits?date=yesterday", "", "", 400, "date"},
		{"bad reschedule", "PATCH", "/api/v1/visits/" + v.ID.String(), `{"duration_minutes":0}`, "application/json", 400, "duration_minutes"},
		{"bad channel", "POST", "/api/v1/visits/" + v.ID.String() + "/link", `{"send":true,"channel":"fax"}`, "application/json", 400, "channel"},
	}
	before := snapshot(t, e)
	for _, c := range cases {
		req, _ := http.NewRequest(c.method, e.srv.URL+c.path, strings.NewReader(c.body))
		if c.ctype != "" {
			req.Header.Set("Content-Type", c.ctype)
		}
		sched(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var p problemBody
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %s, want %d problem+json", c.name, resp.StatusCode, resp.Header.Get("Content-Type"), c.status)
			continue
		}
		if err := json.Unmarshal(raw, &p); err != nil || p.Status != c.status || p.Title == "" {
			t.Errorf("%s: bad problem body %s", c.name, raw)
		}
		if c.field != "" && p.Field != c.field {
			t.Errorf("%s: field %q, want %q", c.name, p.Field, c.field)
		}
		for _, leak := range []string{"Grace Hopper", "1970-01-01", "SQLSTATE", "pgx", "fifteen", "tomorrow"} {
			if strings.Contains(string(raw), leak) {
				t.Errorf("%s: problem echoes %q: %s", c.name, leak, raw)
			}
		}
	}
	if after := snapshot(t, e); after != before {
		t.Fatalf("bad input changed stored data: %s -> %s", before, after)
	}
}

// snapshot summarises what is stored, to show that nothing changed.
func snapshot(t *testing.T, e *env) string {
	var s string
	err := e.svc.Pool().QueryRow(context.Background(), `SELECT (SELECT count(*) FROM visits)::text || '/' ||
		(SELECT count(*) FROM visit_links)::text || '/' || (SELECT max(version) FROM visits)::text`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCheckInIsRateLimited(t *testing.T) {
	e := newEnv(t)
	api, err := New(Config{CheckInPerMinute: 5, CheckInBurst: 5}, e.svc, staffAuthNone{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	api.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	_, p := e.visit(visits.StatusScheduled)
	statuses := map[int]int{}
	for i := 0; i < 8; i++ {
		resp, err := http.Post(srv.URL+"/api/v1/patient/session", "application/json",
			strings.NewReader(`{"token":"`+p.link+`","date_of_birth":"1900-01-01"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		statuses[resp.StatusCode]++
	}
	// Four wrong answers, the fifth locks the link, then the limiter.
	if statuses[401] != 4 || statuses[403] != 1 || statuses[429] != 3 {
		t.Fatalf("statuses %v", statuses)
	}
}

// staffAuthNone authenticates nobody.
type staffAuthNone struct{}

func (staffAuthNone) Authenticate(*http.Request) (visits.Actor, error) {
	return visits.Actor{}, visits.ErrUnauthorized
}
