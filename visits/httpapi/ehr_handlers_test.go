package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"github.com/google/uuid"

	"github.com/televisit/televisit/visits"
)

// authzEHRJob is the failed job the authorization table's retry cell
// made last.
var authzEHRJob int64

// failedEHRJob inserts a failed EHR job for visit (as the worker leaves
// one the EHR rejected) and returns its id.
func (e *env) failedEHRJob(visit uuid.UUID) int64 {
	var id int64
	err := e.svc.Pool().QueryRow(context.Background(), `INSERT INTO ehr_jobs
		(visit_id, clinic_id, seq, kind, encounter_status, status_at, state, attempts, last_error)
		SELECT id, clinic_id, coalesce((SELECT max(seq) FROM ehr_jobs WHERE visit_id = $1), 0) + 1,
			'encounter_status', 'arrived', now(), 'failed', 1, 'ehr: create Encounter: FHIR server answered 400'
		FROM visits WHERE id = $1 RETURNING id`, visit).Scan(&id)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func TestEHRAdminAPI(t *testing.T) {
	e := newEnv(t)
	admin := bearer(e.tokens["api-admin"])
	v, _ := e.visit(visits.StatusWaiting)
	var ids []int64
	for range 3 {
		ids = append(ids, e.failedEHRJob(v.ID))
	}

	var page visits.EHRJobList
	decodeBody(t, e.do("GET", "/api/v1/ehr/jobs?state=failed&limit=2&clinic_id="+e.north.ID.String(), nil, admin), &page)
	if len(page.Items) != 2 || page.Items[0].ID != ids[2] || page.NextBefore == nil || *page.NextBefore != ids[1] {
		t.Fatalf("first page %+v", page)
	}
	decodeBody(t, e.do("GET", "/api/v1/ehr/jobs?state=failed&limit=2&before="+strconv.FormatInt(*page.NextBefore, 10), nil, admin), &page)
	if len(page.Items) != 1 || page.Items[0].ID != ids[0] || page.NextBefore != nil {
		t.Fatalf("second page %+v", page)
	}
	if j := page.Items[0]; j.State != visits.JobFailed || j.LastError == "" || j.Kind != visits.JobEncounterStatus {
		t.Fatalf("job %+v", j)
	}
	decodeBody(t, e.do("GET", "/api/v1/ehr/jobs?clinic_id="+uuid.NewString(), nil, admin), &page)
	if len(page.Items) != 0 {
		t.Fatalf("another clinic's filter found %d jobs", len(page.Items))
	}
	for _, q := range []string{"state=lost", "limit=0", "limit=x", "clinic_id=north", "before=-1"} {
		if resp := e.do("GET", "/api/v1/ehr/jobs?"+q, nil, admin); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("?%s: %d, want 400", q, resp.StatusCode)
		}
	}

	var j visits.EHRJob
	decodeBody(t, e.do("POST", "/api/v1/ehr/jobs/"+strconv.FormatInt(ids[0], 10)+"/retry", nil, admin), &j)
	if j.State != visits.JobPending || j.Attempts != 1 {
		t.Fatalf("retried job %+v", j)
	}
	for path, want := range map[string]int{
		"/api/v1/ehr/jobs/" + strconv.FormatInt(ids[0], 10) + "/retry": http.StatusConflict,
		"/api/v1/ehr/jobs/999999/retry":                                http.StatusNotFound,
		"/api/v1/ehr/jobs/x/retry":                                     http.StatusNotFound,
	} {
		if resp := e.do("POST", path, nil, admin); resp.StatusCode != want {
			t.Errorf("POST %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
}

func TestEHRClinicProfileAPI(t *testing.T) {
	e := newEnv(t)
	admin := bearer(e.tokens["api-admin"])
	path := "/api/v1/clinics/" + e.north.ID.String() + "/ehr"
	var got visits.ClinicEHR
	decodeBody(t, e.do("GET", path, nil, admin), &got)
	if got.Profile != visits.EHRNone || got.UpdatedAt != nil {
		t.Fatalf("profile before any is set: %+v", got)
	}
	generic := map[string]any{"profile": "generic", "endpoint": "main", "identifier_system": "urn:televisit:north"}
	if resp := e.do("PUT", path, generic, admin); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("an endpoint the server does not have: %d, want 400", resp.StatusCode)
	}
	e.svc.SetEHREndpoints("main")
	decodeBody(t, e.do("PUT", path, generic, admin), &got)
	decodeBody(t, e.do("GET", path, nil, admin), &got)
	if got.Profile != visits.EHRGeneric || got.Endpoint != "main" || got.IdentifierSystem != "urn:televisit:north" || got.UpdatedAt == nil {
		t.Fatalf("profile %+v", got)
	}
	for _, bad := range []map[string]any{
		{"profile": "cerner"},
		{"profile": "none", "endpoint": "main"},
		{"profile": "epic_like", "endpoint": "main", "identifier_system": "not a uri"},
		{"profile": "epic_like", "endpoint": "main", "identifier_system": "urn:x", "extra": 1},
	} {
		if resp := e.do("PUT", path, bad, admin); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("PUT %v: %d, want 400", bad, resp.StatusCode)
		}
	}
	if resp := e.do("GET", "/api/v1/clinics/"+uuid.NewString()+"/ehr", nil, admin); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown clinic: %d, want 404", resp.StatusCode)
	}

	pr := "/api/v1/ehr/practitioners/"
	var s visits.StaffEHR
	decodeBody(t, e.do("PUT", pr+e.clin2.String(), map[string]any{"practitioner_id": "pr-2"}, admin), &s)
	if s.PractitionerID != "pr-2" || s.StaffID != e.clin2 {
		t.Fatalf("practitioner %+v", s)
	}
	for p, body := range map[string]map[string]any{
		pr + e.clin2.String(): {"practitioner_id": "Practitioner/pr 2"},
		pr + uuid.NewString(): {"practitioner_id": "pr-3"},
	} {
		if resp := e.do("PUT", p, body, admin); resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusNotFound {
			t.Errorf("PUT %s %v: %d", p, body, resp.StatusCode)
		}
	}
}
