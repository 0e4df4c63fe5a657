package httpapi

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/televisit/televisit/visits"
)

// principals, in the order of the expectation strings below.
var principals = []string{"anonymous", "patient", "other-patient", "expired-link", "revoked-link",
	"scheduler", "clinician", "other-clinic-clinician", "admin", "guest"}

var staffClient = map[string]string{"scheduler": "api-scheduler", "clinician": "api-clinician",
	"other-clinic-clinician": "api-clinician-south", "admin": "api-admin"}

// caller is one principal's credentials in one test cell.
type caller struct {
	creds []cred
	link  string // the link token this caller holds, if any
}

// caller makes the credentials of principal name in a cell whose visit has
// patient p and guest g (g is set when the cell needs a guest).
func (e *env) caller(name string, p patient, g guest) caller {
	ctx := context.Background()
	if c, ok := staffClient[name]; ok {
		return caller{creds: []cred{bearer(e.tokens[c])}}
	}
	switch name {
	case "patient":
		return caller{creds: []cred{patientCookie(p.session)}, link: p.link}
	case "guest": // a waiting guest of the cell's visit
		return caller{creds: []cred{guestCookie(g.session)}, link: g.link}
	case "other-patient":
		_, o := e.visit(visits.StatusWaiting)
		return caller{creds: []cred{patientCookie(o.session)}, link: o.link}
	case "expired-link":
		v, o := e.visit(visits.StatusScheduled)
		for _, q := range []string{"UPDATE visit_links SET expires_at = now() - interval '1 minute' WHERE visit_id = $1",
			"UPDATE patient_sessions SET expires_at = now() - interval '1 minute' WHERE visit_id = $1"} {
			if _, err := e.svc.Pool().Exec(ctx, q, v.ID); err != nil {
				e.t.Fatal(err)
			}
		}
		return caller{creds: []cred{patientCookie(o.session)}, link: o.link}
	case "revoked-link":
		v, o := e.visit(visits.StatusScheduled)
		if err := e.svc.RevokeLink(ctx, e.staff["api-scheduler"], v.ID); err != nil {
			e.t.Fatal(err)
		}
		return caller{creds: []cred{patientCookie(o.session)}, link: o.link}
	}
	return caller{}
}

type routeCase struct {
	method, path string // path may hold {visit}, {north}, {guest}
	state        visits.Status
	body         func(e *env, c caller) any
	want         string // one status per principal
}

var checkIn = map[string]any{"location_state": "NY", "recording_consent": "yes",
	"device_test": map[string]string{"camera": "pass", "microphone": "pass", "speaker": "pass", "network": "good"}}

func authzCases() []routeCase {
	linkBody := func(_ *env, c caller) any { return map[string]string{"token": c.link} }
	return []routeCase{
		{"GET", "/healthz", "", nil, "200 200 200 200 200 200 200 200 200 200"},
		{"GET", "/readyz", "", nil, "200 200 200 200 200 200 200 200 200 200"},
		{"GET", "/api/v1/openapi.json", "", nil, "200 200 200 200 200 200 200 200 200 200"},
		{"GET", "/api/v1/me", "", nil, "401 200 200 401 401 200 200 200 200 200"},
		{"GET", "/api/v1/clinics", "", nil, "401 403 403 401 401 200 200 200 200 403"},
		{"GET", "/api/v1/clinics/{north}/clinicians", "", nil, "401 403 403 401 401 200 200 403 200 403"},
		{"GET", "/api/v1/clinics/{north}/visits", "", nil, "401 403 403 401 401 200 200 403 200 403"},
		{"GET", "/api/v1/clinics/{north}/waiting-room", "", nil, "401 403 403 401 401 403 200 403 403 403"},
		{"POST", "/api/v1/visits", "", func(e *env, _ caller) any {
			return map[string]any{"clinic_id": e.north.ID, "starts_at": time.Now().Add(time.Hour), "duration_minutes": 15,
				"patient": map[string]string{"name": "Grace Hopper", "date_of_birth": "1970-01-01"}}
		}, "401 403 403 401 401 201 403 403 201 403"},
		{"GET", "/api/v1/visits/{visit}", visits.StatusScheduled, nil, "401 403 403 401 401 200 200 403 200 403"},
		{"PATCH", "/api/v1/visits/{visit}", visits.StatusScheduled, func(*env, caller) any {
			return map[string]any{"duration_minutes": 45}
		}, "401 403 403 401 401 200 403 403 200 403"},
		{"POST", "/api/v1/visits/{visit}/cancel", visits.StatusScheduled, nil, "401 403 403 401 401 200 403 403 200 403"},
		{"POST", "/api/v1/visits/{visit}/link", visits.StatusScheduled, func(*env, caller) any {
			return map[string]any{"send": false}
		}, "401 403 403 401 401 200 403 403 200 403"},
		{"DELETE", "/api/v1/visits/{visit}/link", visits.StatusScheduled, nil, "401 403 403 401 401 204 403 403 204 403"},
		{"POST", "/api/v1/visits/{visit}/admit", visits.StatusWaiting, nil, "401 403 403 401 401 403 200 403 403 403"},
		{"POST", "/api/v1/visits/{visit}/send-back", visits.StatusInProgress, nil, "401 403 403 401 401 403 200 403 403 403"},
		{"POST", "/api/v1/visits/{visit}/complete", visits.StatusInProgress, nil, "401 403 403 401 401 403 200 403 403 403"},
		{"POST", "/api/v1/visits/{visit}/no-show", visits.StatusWaiting, nil, "401 403 403 401 401 403 200 403 403 403"},
		{"POST", "/api/v1/visits/{visit}/take", visits.StatusWaiting, nil, "401 403 403 401 401 403 200 403 403 403"},
		{"POST", "/api/v1/visits/{visit}/hand-off", visits.StatusWaiting, func(e *env, _ caller) any {
			return map[string]any{"clinician_id": e.clin2}
		}, "401 403 403 401 401 403 200 403 403 403"},
		{"POST", "/api/v1/visits/{visit}/guests", visits.StatusScheduled, func(*env, caller) any {
			return map[string]any{"display_name": "Lena Interpreter", "role": "interpreter"}
		}, "401 403 403 401 401 403 201 403 403 403"},
		{"GET", "/api/v1/visits/{visit}/guests", visits.StatusWaiting, nil, "401 403 403 401 401 403 200 403 403 403"},
		{"POST", "/api/v1/visits/{visit}/guests/{guest}/admit", visits.StatusInProgress, nil,
			"401 403 403 401 401 403 200 403 403 403"},
		{"POST", "/api/v1/visits/{visit}/guests/{guest}/remove", visits.StatusInProgress, nil,
			"401 403 403 401 401 403 200 403 403 403"},
		{"GET", "/api/v1/visits/{visit}/note", visits.StatusInProgress, nil, "401 403 403 401 401 403 200 403 403 403"},
		{"PUT", "/api/v1/visits/{visit}/note/draft", visits.StatusInProgress, func(*env, caller) any {
			return map[string]any{"text": "S: rash. P: cream.", "revision": 0}
		}, "401 403 403 401 401 403 200 403 403 403"},
		{"POST", "/api/v1/visits/{visit}/note/sign", visits.StatusInProgress, func(*env, caller) any {
			return map[string]any{"revision": 1}
		}, "401 403 403 401 401 403 200 403 403 403"},
		{"POST", "/api/v1/visits/{visit}/note/versions/{version}/retract", visits.StatusInProgress, func(*env, caller) any {
			return map[string]any{"reason": "duplicate"}
		}, "401 403 403 401 401 403 200 403 403 403"},
		{"POST", "/api/v1/guest/session", visits.StatusScheduled, linkBody, "404 404 404 404 404 404 404 404 404 200"},
		{"DELETE", "/api/v1/guest/session", visits.StatusScheduled, nil, "401 403 403 401 401 403 403 403 403 204"},
		{"GET", "/api/v1/guest/visit", visits.StatusWaiting, nil, "401 403 403 401 401 403 403 403 403 200"},
		{"POST", "/api/v1/patient/link", visits.StatusScheduled, linkBody, "404 200 200 410 410 404 404 404 404 404"},
		{"POST", "/api/v1/patient/session", visits.StatusScheduled, func(_ *env, c caller) any {
			return map[string]string{"token": c.link, "date_of_birth": "1985-12-10"}
		}, "404 200 200 410 410 404 404 404 404 404"},
		{"DELETE", "/api/v1/patient/session", visits.StatusScheduled, nil, "401 204 204 401 401 403 403 403 403 403"},
		{"GET", "/api/v1/patient/visit", visits.StatusWaiting, nil, "401 200 200 401 401 403 403 403 403 403"},
		{"POST", "/api/v1/patient/check-in", visits.StatusScheduled, func(*env, caller) any { return checkIn },
			"401 200 200 401 401 403 403 403 403 403"},
		{"GET", "/api/v1/audit", "", nil, "401 403 403 401 401 403 403 403 200 403"},
		{"GET", "/api/v1/ehr/jobs", "", nil, "401 403 403 401 401 403 403 403 200 403"},
		{"POST", "/api/v1/ehr/jobs/{jobID}/retry", "", nil, "401 403 403 401 401 403 403 403 200 403"},
		{"PUT", "/api/v1/ehr/practitioners/{staffID}", "", func(*env, caller) any {
			return map[string]any{"practitioner_id": "pr-77"}
		}, "401 403 403 401 401 403 403 403 200 403"},
		{"GET", "/api/v1/clinics/{north}/ehr", "", nil, "401 403 403 401 401 403 403 403 200 403"},
		{"PUT", "/api/v1/clinics/{north}/ehr", "", func(*env, caller) any {
			return map[string]any{"profile": "none"}
		}, "401 403 403 401 401 403 403 403 200 403"},
		{"GET", "/api/v1/clinics/{north}/recording-retention", "", nil, "401 403 403 401 401 403 403 403 200 403"},
		{"PUT", "/api/v1/clinics/{north}/recording-retention", "", func(*env, caller) any {
			return map[string]any{"mode": "GOVERNANCE", "days": 30}
		}, "401 403 403 401 401 403 403 403 200 403"},
		{"GET", "/api/v1/recordings?visit_id={visit}", visits.StatusInProgress, nil, "401 403 403 401 401 403 200 403 200 403"},
		{"POST", "/api/v1/recordings/{recordingID}/objects/{objectID}/playback", visits.StatusInProgress, nil,
			"401 403 403 401 401 403 200 403 200 403"},
		{"POST", "/api/v1/recordings/{recordingID}/release-requests", visits.StatusInProgress, func(*env, caller) any {
			return map[string]any{"requester": "patient"}
		}, "401 403 403 401 401 201 201 403 201 403"},
		{"GET", "/api/v1/recordings/{recordingID}/release-requests", visits.StatusInProgress, nil,
			"401 403 403 401 401 403 403 403 200 403"},
		{"GET", "/api/v1/release-requests?state=pending", visits.StatusInProgress, nil,
			"401 403 403 401 401 403 403 403 200 403"},
		{"POST", "/api/v1/recordings/{recordingID}/release-requests/{requestID}/approve", visits.StatusInProgress, nil,
			"401 403 403 401 401 403 403 403 200 403"},
		{"POST", "/api/v1/recordings/{recordingID}/release-requests/{requestID}/deny", visits.StatusInProgress, nil,
			"401 403 403 401 401 403 403 403 200 403"},
		{"GET", "/api/v1/recordings/{recordingID}/release-requests/{requestID}/link", visits.StatusInProgress, nil,
			"401 403 403 401 401 403 403 403 200 403"},
	}
}

// The recording, object and release request of the current cell (set by
// authzPrep).
var authzRecording, authzObject, authzRequest uuid.UUID

// authzRecordingPrep gives a cell's visit a stored recording and, when
// request is set, a release request (approved when approve is set).
func authzRecordingPrep(request, approve bool) func(e *env, visit uuid.UUID) {
	return func(e *env, visit uuid.UUID) {
		authzRecording, authzObject = e.storedRecording(visit, "recorded media")
		if request {
			authzRequest = e.releaseRequest(authzRecording, approve)
		}
	}
}

// authzPrep readies a cell's visit for a route, as its clinician
// (api-clinician, who admitted it): sign needs a draft at revision 1,
// retract a signed version 1.
var authzPrep = map[string]func(e *env, visit uuid.UUID){
	"POST /api/v1/visits/{visit}/note/sign": func(e *env, visit uuid.UUID) { e.noteDraft(visit) },
	"POST /api/v1/ehr/jobs/{jobID}/retry":   func(e *env, visit uuid.UUID) { authzEHRJob = e.failedEHRJob(visit) },
	"POST /api/v1/visits/{visit}/note/versions/{version}/retract": func(e *env, visit uuid.UUID) {
		if _, err := e.svc.SignNote(context.Background(), e.staff["api-clinician"], visit, e.noteDraft(visit)); err != nil {
			e.t.Fatal(err)
		}
	},

	// Recording access: a stored recording in the cell's visit, and a release request.
	"GET /api/v1/clinics/{north}/recording-retention":                            func(e *env, _ uuid.UUID) { e.recordings() },
	"PUT /api/v1/clinics/{north}/recording-retention":                            func(e *env, _ uuid.UUID) { e.recordings() },
	"GET /api/v1/recordings?visit_id={visit}":                                    authzRecordingPrep(false, false),
	"POST /api/v1/recordings/{recordingID}/objects/{objectID}/playback":          authzRecordingPrep(false, false),
	"POST /api/v1/recordings/{recordingID}/release-requests":                     authzRecordingPrep(false, false),
	"GET /api/v1/recordings/{recordingID}/release-requests":                      authzRecordingPrep(true, false),
	"GET /api/v1/release-requests?state=pending":                                 authzRecordingPrep(true, false),
	"POST /api/v1/recordings/{recordingID}/release-requests/{requestID}/approve": authzRecordingPrep(true, false),
	"POST /api/v1/recordings/{recordingID}/release-requests/{requestID}/deny":    authzRecordingPrep(true, false),
	"GET /api/v1/recordings/{recordingID}/release-requests/{requestID}/link":     authzRecordingPrep(true, true),
}

// TestAuthorizationTable runs every route as every kind of caller, each in a
// fresh visit, and checks the status each gets.
func TestAuthorizationTable(t *testing.T) {
	e := newEnv(t)
	for _, rc := range authzCases() {
		want := strings.Fields(rc.want)
		if len(want) != len(principals) {
			t.Fatalf("%s %s: %d expectations", rc.method, rc.path, len(want))
		}
		for i, who := range principals {
			state := rc.state
			if state == "" {
				state = visits.StatusScheduled
			}
			v, p := e.visit(state)
			var g guest
			if who == "guest" || strings.Contains(rc.path, "{guest}") {
				g = e.guest(v.ID)
			}
			if prep := authzPrep[rc.method+" "+rc.path]; prep != nil {
				prep(e, v.ID)
			}
			c := e.caller(who, p, g)
			path := strings.NewReplacer("{visit}", v.ID.String(), "{north}", e.north.ID.String(),
				"{guest}", g.id.String(), "{version}", "1", "{jobID}", strconv.FormatInt(authzEHRJob, 10),
				"{staffID}", e.clin2.String(), "{recordingID}", authzRecording.String(),
				"{objectID}", authzObject.String(), "{requestID}", authzRequest.String()).Replace(rc.path)
			var body any
			if rc.body != nil {
				body = rc.body(e, c)
			}
			resp := e.do(rc.method, path, body, c.creds...)
			if got := strconv.Itoa(resp.StatusCode); got != want[i] {
				t.Errorf("%s %s as %s: %s, want %s", rc.method, rc.path, who, got, want[i])
			}
		}
	}
}

func TestRoutesAllCovered(t *testing.T) {
	seen := map[string]bool{}
	for _, rc := range authzCases() {
		path, _, _ := strings.Cut(rc.path, "?")
		seen[rc.method+" "+path] = true
	}
	for _, r := range Routes() {
		key := r.Method + " " + strings.NewReplacer("{visitID}", "{visit}", "{clinicID}", "{north}",
			"{guestID}", "{guest}").Replace(r.Path)
		if !seen[key] {
			t.Errorf("route %s has no authorization case", key)
		}
	}
}

// A patient sees only their own visit; a scheduler never the clinical
// reason; a clinician does.
func TestWhatEachCallerSees(t *testing.T) {
	e := newEnv(t)
	v, p := e.visit(visits.StatusWaiting)
	_, other := e.visit(visits.StatusWaiting)
	var me Me
	decodeBody(t, e.do("GET", "/api/v1/me", nil, patientCookie(other.session)), &me)
	if me.VisitID == nil || *me.VisitID == v.ID {
		t.Fatalf("another patient's session is bound to %v", me.VisitID)
	}
	decodeBody(t, e.do("GET", "/api/v1/me", nil, patientCookie(p.session)), &me)
	if *me.VisitID != v.ID {
		t.Fatalf("patient bound to %v, want %v", *me.VisitID, v.ID)
	}
	for client, wantReason := range map[string]bool{"api-scheduler": false, "api-admin": false, "api-clinician": true} {
		var got visits.Visit
		decodeBody(t, e.do("GET", "/api/v1/visits/"+v.ID.String(), nil, bearer(e.tokens[client])), &got)
		if (got.Reason != "") != wantReason || got.Patient.Name != "Ada Lovelace" {
			t.Errorf("%s sees reason %q name %q", client, got.Reason, got.Patient.Name)
		}
	}
	var clinicians struct{ Items []visits.StaffMember }
	decodeBody(t, e.do("GET", "/api/v1/clinics/"+e.north.ID.String()+"/clinicians", nil, bearer(e.tokens["api-scheduler"])), &clinicians)
	if len(clinicians.Items) != 1 || clinicians.Items[0].ID != e.clin2 {
		t.Fatalf("clinicians of north: %+v, want only the person provisioned (no API clients)", clinicians.Items)
	}
	resp := e.do("GET", "/api/v1/clinics/"+e.north.ID.String()+"/waiting-room", nil, bearer(e.tokens["api-clinician"]))
	var q struct{ Items []visits.QueueEntry }
	decodeBody(t, resp, &q)
	if len(q.Items) != 2 {
		t.Fatalf("waiting room has %d entries, want 2", len(q.Items))
	}
}
