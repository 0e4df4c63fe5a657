package signaling

import (
	"net/http"
	"sync"

	"github.com/televisit/televisit/visits"
)

// Test-only authentication: the patient session cookie goes through the
// real visits service; staff are named by a test header that maps to an
// actor the test prepared (the real staff authenticator belongs to the
// HTTP layer).
const (
	patientCookie = "tv_patient"
	guestCookie   = "tv_guest"
	staffHeader   = "X-Test-Staff"
)

type testAuth struct {
	svc *visits.Service

	mu       sync.Mutex
	staff    map[string]visits.Actor
	ended    map[string]bool // staff keys whose sign-in has ended
	rechecks int
}

func newTestAuth(svc *visits.Service) *testAuth {
	return &testAuth{svc: svc, staff: map[string]visits.Actor{}, ended: map[string]bool{}}
}

func (t *testAuth) addStaff(key string, a visits.Actor) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.staff[key] = a
}

func (t *testAuth) endStaff(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ended[key] = true
}

func (t *testAuth) Authenticate(r *http.Request) (visits.Actor, error) {
	if Rechecking(r.Context()) {
		t.mu.Lock()
		t.rechecks++
		t.mu.Unlock()
	}
	if key := r.Header.Get(staffHeader); key != "" {
		t.mu.Lock()
		defer t.mu.Unlock()
		a, ok := t.staff[key]
		if !ok {
			return visits.Actor{}, visits.ErrUnauthorized
		}
		if t.ended[key] {
			return visits.Actor{}, visits.ErrSessionEnded
		}
		return a, nil
	}
	if c, err := r.Cookie(guestCookie); err == nil {
		return t.svc.AuthenticateGuest(r.Context(), c.Value, r.RemoteAddr, r.UserAgent())
	}
	c, err := r.Cookie(patientCookie)
	if err != nil {
		return visits.Actor{}, visits.ErrUnauthorized
	}
	return t.svc.AuthenticatePatient(r.Context(), c.Value, r.RemoteAddr, r.UserAgent())
}
