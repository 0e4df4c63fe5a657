package httpapi

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/televisit/televisit/visits"
)

// Two clinicians press "admit" for the same pool patient at the same time,
// over HTTP: exactly one gets 200, the other 409.
func TestConcurrentAdmitRequests(t *testing.T) {
	e := newEnv(t)
	for trial := 0; trial < 10; trial++ {
		v, _ := e.visit(visits.StatusWaiting)
		var wg sync.WaitGroup
		start := make(chan struct{})
		codes := make([]int, 2)
		for i, client := range []string{"api-clinician", "api-clinician-b"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/visits/"+v.ID.String()+"/admit", nil)
				bearer(e.tokens[client])(req)
				<-start
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				codes[i] = resp.StatusCode
			}()
		}
		close(start)
		wg.Wait()
		if !(codes[0] == 200 && codes[1] == 409 || codes[0] == 409 && codes[1] == 200) {
			t.Fatalf("trial %d: statuses %v, want one 200 and one 409", trial, codes)
		}
	}
}

// readyz answers 503 once the database does not answer; healthz still 200.
func TestReadyzFollowsTheDatabase(t *testing.T) {
	e := newEnv(t)
	mux := http.NewServeMux()
	e.api.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	get := func(path string) int {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := get("/readyz"); got != 200 {
		t.Fatalf("readyz with the database up: %d", got)
	}
	e.svc.Pool().Close()
	if got := get("/readyz"); got != 503 {
		t.Fatalf("readyz with the database gone: %d", got)
	}
	if got := get("/healthz"); got != 200 {
		t.Fatalf("healthz: %d", got)
	}
}

// readyz answers 503 while the node drains, with the database up.
func TestReadyzWhileDraining(t *testing.T) {
	e := newEnv(t)
	var draining atomic.Bool
	e.api.cfg.Draining = draining.Load
	for _, want := range []struct {
		draining bool
		status   int
	}{{false, 200}, {true, 503}} {
		draining.Store(want.draining)
		resp, err := http.Get(e.srv.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want.status {
			t.Errorf("draining %v: readyz %d, want %d", want.draining, resp.StatusCode, want.status)
		}
	}
}
