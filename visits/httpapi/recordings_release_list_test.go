package httpapi

import (
	"testing"

	"github.com/google/uuid"

	"github.com/televisit/televisit/visits"
)

// TestReleaseRequestsListHTTP: a request a scheduler recorded shows, with
// its note, in the admin's list of the recording and in the pending queue
// (with its visit and clinic); after approval it leaves the queue and the
// list shows it approved; a clinician is refused; bad filters are 400 and
// an unknown recording 404.
func TestReleaseRequestsListHTTP(t *testing.T) {
	e := newEnv(t)
	v, _ := e.visit(visits.StatusInProgress)
	recording, _ := e.storedRecording(v.ID, "a copy")
	base := "/api/v1/recordings/" + recording.String() + "/release-requests"
	admin := bearer(e.tokens["api-admin"])
	resp := e.do("POST", base, map[string]any{"requester": "patient", "note": "asked at the desk"}, bearer(e.tokens["api-scheduler"]))
	if resp.StatusCode != 201 {
		t.Fatalf("request: %d", resp.StatusCode)
	}
	var rr visits.ReleaseRequest
	decodeBody(t, resp, &rr)

	var list visits.ReleaseRequestList
	decodeBody(t, e.do("GET", base, nil, admin), &list)
	if len(list.Items) != 1 || list.Items[0].ID != rr.ID || list.Items[0].Note != "asked at the desk" ||
		list.Items[0].State != "pending" {
		t.Fatalf("list: %+v", list)
	}
	var queue visits.PendingReleaseList
	decodeBody(t, e.do("GET", "/api/v1/release-requests?state=pending", nil, admin), &queue)
	if len(queue.Items) != 1 || queue.Items[0].Request.ID != rr.ID || queue.Items[0].VisitID != v.ID ||
		queue.Items[0].ClinicID != e.north.ID {
		t.Fatalf("pending: %+v", queue)
	}
	decodeBody(t, e.do("GET", "/api/v1/release-requests?clinic_id="+uuid.NewString(), nil, admin), &queue)
	if len(queue.Items) != 0 {
		t.Fatalf("pending of another clinic: %+v", queue)
	}
	if resp := e.do("GET", base, nil, bearer(e.tokens["api-clinician"])); resp.StatusCode != 403 {
		t.Fatalf("clinician lists: %d, want 403", resp.StatusCode)
	}
	for _, q := range []string{"?state=approved", "?clinic_id=north", "?clinic_id=" + uuid.Nil.String()} {
		if resp := e.do("GET", "/api/v1/release-requests"+q, nil, admin); resp.StatusCode != 400 {
			t.Errorf("%s: %d, want 400", q, resp.StatusCode)
		}
	}
	for _, id := range []string{uuid.NewString(), "not-a-uuid"} {
		if resp := e.do("GET", "/api/v1/recordings/"+id+"/release-requests", nil, admin); resp.StatusCode != 404 {
			t.Errorf("recording %s: %d, want 404", id, resp.StatusCode)
		}
	}

	if resp := e.do("POST", base+"/"+rr.ID.String()+"/approve", nil, admin); resp.StatusCode != 200 {
		t.Fatalf("approve: %d", resp.StatusCode)
	}
	decodeBody(t, e.do("GET", "/api/v1/release-requests", nil, admin), &queue)
	if len(queue.Items) != 0 {
		t.Fatalf("pending after approval: %+v", queue)
	}
	decodeBody(t, e.do("GET", base, nil, admin), &list)
	if len(list.Items) != 1 || list.Items[0].State != "approved" {
		t.Fatalf("list after approval: %+v", list)
	}
	if n := e.auditCount("recording.release.list", recording.String(), "success"); n != 3 {
		t.Fatalf("%d recording.release.list events of the recording, want 3 (two lists, one queue)", n)
	}
}
