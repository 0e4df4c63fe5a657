package httpapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/televisit/televisit/visits"
)

// A guest's journey over HTTP: invited by the clinician, opens the link,
// waits, is admitted, is removed; the cookie and the link are then dead.
func TestGuestJourneyOverHTTP(t *testing.T) {
	e := newEnv(t)
	v, _ := e.visit(visits.StatusInProgress)
	w, _ := e.visit(visits.StatusWaiting)
	clin := bearer(e.tokens["api-clinician"])
	base := "/api/v1/visits/" + v.ID.String() + "/guests"

	resp := e.do("POST", base, map[string]string{"display_name": "Lena Interpreter", "role": "interpreter"}, clin)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("invite: %d", resp.StatusCode)
	}
	var link visits.IssuedGuestLink
	decodeBody(t, resp, &link)
	prefix, token, ok := strings.Cut(link.URL, "#")
	if !ok || prefix != "https://visits.test/guest" {
		t.Fatalf("guest link %q", link.URL)
	}

	resp = e.do("POST", "/api/v1/guest/session", map[string]string{"token": token})
	if resp.StatusCode != 200 {
		t.Fatalf("guest session: %d", resp.StatusCode)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == GuestCookie {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/" {
		t.Fatalf("guest cookie: %+v", cookie)
	}
	var body map[string]any
	decodeBody(t, resp, &body)
	if len(body) != 1 || body["expires_at"] == nil {
		t.Fatalf("guest session body: %v (the token is only in the cookie)", body)
	}
	asGuest := guestCookie(cookie.Value)

	var me Me
	decodeBody(t, e.do("GET", "/api/v1/me", nil, asGuest), &me)
	if me.Kind != visits.ActorGuest || me.VisitID == nil || *me.VisitID != v.ID {
		t.Fatalf("me as guest: %+v", me)
	}
	wantGuestView(t, e, asGuest, visits.GuestWaiting)

	var gs struct{ Items []visits.Guest }
	decodeBody(t, e.do("GET", base, nil, clin), &gs)
	if len(gs.Items) != 1 || gs.Items[0].DisplayName != "Lena Interpreter" || gs.Items[0].ID != link.GuestID {
		t.Fatalf("guests: %+v", gs.Items)
	}
	guestPath := base + "/" + link.GuestID.String()
	wrongVisit := "/api/v1/visits/" + w.ID.String() + "/guests/" + link.GuestID.String() + "/admit"
	for path, want := range map[string]int{wrongVisit: 404, base + "/not-a-uuid/admit": 404, guestPath + "/admit": 200} {
		if got := e.do("POST", path, nil, clin).StatusCode; got != want {
			t.Errorf("POST %s: %d, want %d", path, got, want)
		}
	}
	wantGuestView(t, e, asGuest, visits.GuestAdmitted)

	var g visits.Guest
	decodeBody(t, e.do("POST", guestPath+"/remove", nil, clin), &g)
	if g.Status != visits.GuestRemoved {
		t.Fatalf("removed guest: %+v", g)
	}
	wantProblem(t, e.do("GET", "/api/v1/guest/visit", nil, asGuest), 401, "session-ended")
	wantProblem(t, e.do("POST", "/api/v1/guest/session", map[string]string{"token": token}), 410, "link-revoked")
	wantProblem(t, e.do("POST", guestPath+"/remove", nil, clin), 409, "conflict")
}

func TestGuestInviteBadInput(t *testing.T) {
	e := newEnv(t)
	v, _ := e.visit(visits.StatusWaiting)
	clin := bearer(e.tokens["api-clinician"])
	base := "/api/v1/visits/" + v.ID.String() + "/guests"
	for _, b := range []any{
		map[string]string{"display_name": "Lena", "role": "neighbour"},
		map[string]string{"display_name": "", "role": "family"},
		map[string]string{"display_name": "Lena", "role": "family", "patient_name": "x"},
		`{"display_name": 1}`,
	} {
		if got := e.do("POST", base, b, clin).StatusCode; got != 400 {
			t.Errorf("invite %v: %d, want 400", b, got)
		}
	}
}

func wantGuestView(t *testing.T, e *env, c cred, want visits.GuestStatus) {
	t.Helper()
	resp := e.do("GET", "/api/v1/guest/visit", nil, c)
	if resp.StatusCode != 200 {
		t.Fatalf("guest view: %d", resp.StatusCode)
	}
	var gv visits.GuestView
	decodeBody(t, resp, &gv)
	if gv.Status != want || gv.ClinicName != "North Clinic" {
		t.Fatalf("guest view: %+v, want status %q", gv, want)
	}
}

func wantProblem(t *testing.T, resp *http.Response, status int, typ string) {
	t.Helper()
	var p Problem
	decodeBody(t, resp, &p)
	if resp.StatusCode != status || p.Type != problemTypeURI+typ {
		t.Fatalf("got %d %q, want %d %q", resp.StatusCode, p.Type, status, typ)
	}
}
