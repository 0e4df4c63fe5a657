package fhirtest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"
)

const encounterJSON = `{"resourceType":"Encounter","status":"arrived",
"class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"VR"},
"identifier":[{"system":"urn:televisit:test","value":"v1"}]}`

func post(t *testing.T, url, body string, hdr map[string]string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/fhir+json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	data, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("POST %s: %d %q: %v", url, resp.StatusCode, data, err)
	}
	return resp, out
}

func search(t *testing.T, s *Server) int {
	t.Helper()
	return entries(t, s.HTTPClient(), s.BaseURL+"/Encounter?identifier=urn:televisit:test|v1")
}

func TestServerValidatesAndCreatesConditionally(t *testing.T) {
	s := Start(t)
	cond := map[string]string{"If-None-Exist": "identifier=urn:televisit:test|v1"}
	resp, first := post(t, s.BaseURL+"/Encounter", encounterJSON, cond)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: status %d, want 201: %v", resp.StatusCode, first)
	}
	resp, again := post(t, s.BaseURL+"/Encounter", encounterJSON, cond)
	if resp.StatusCode != http.StatusOK || again["id"] != first["id"] {
		t.Fatalf("replay: status %d id %v, want 200 and id %v", resp.StatusCode, again["id"], first["id"])
	}
	resp, oo := post(t, s.BaseURL+"/Encounter", `{"resourceType":"Encounter","period":{"start":"2026-13-45"}}`, nil)
	if resp.StatusCode != http.StatusBadRequest || oo["resourceType"] != "OperationOutcome" {
		t.Fatalf("invalid resource: status %d body %v, want 400 OperationOutcome", resp.StatusCode, oo)
	}
	if n := search(t, s); n != 1 {
		t.Fatalf("search by identifier: %d matches, want 1", n)
	}
	id := first["id"].(string)
	updated := strings.Replace(encounterJSON, `"status":"arrived"`, `"id":"`+id+`","status":"finished"`, 1)
	req, _ := http.NewRequest(http.MethodPut, s.BaseURL+"/Encounter/"+id, strings.NewReader(updated))
	req.Header.Set("Content-Type", "application/fhir+json")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("update: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if n := entries(t, s.HTTPClient(), s.BaseURL+"/Encounter/"+id+"/_history"); n != 2 {
		t.Fatalf("_history: %d versions, want 2", n)
	}
}

func entries(t *testing.T, c *http.Client, url string) int {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b struct {
		Entry []any `json:"entry"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&b); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return len(b.Entry)
}

func TestDropNextWriteResponseAppliesTheWrite(t *testing.T) {
	for name, opts := range map[string][]Option{"http": nil, "https": {WithTLS()}} {
		t.Run(name, func(t *testing.T) {
			s := Start(t, opts...)
			if !strings.HasPrefix(s.BaseURL, name+"://") {
				t.Fatalf("BaseURL %s", s.BaseURL)
			}
			s.DropNextWriteResponse()
			req, _ := http.NewRequest(http.MethodPost, s.BaseURL+"/Encounter", strings.NewReader(encounterJSON))
			req.Header.Set("Content-Type", "application/fhir+json")
			if resp, err := s.HTTPClient().Do(req); err == nil {
				resp.Body.Close()
				t.Fatalf("dropped write: got status %d, want a connection error", resp.StatusCode)
			}
			if s.Dropped() != 1 {
				t.Fatalf("Dropped() = %d, want 1", s.Dropped())
			}
			if n := search(t, s); n != 1 {
				t.Fatalf("after a dropped answer: %d encounters, want 1 (the server applied the write)", n)
			}
		})
	}
}

// postAsync posts encounterJSON in the background; the channel gets the
// status, or 0 when the request failed.
func postAsync(ctx context.Context, s *Server) <-chan int {
	status := make(chan int, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.BaseURL+"/Encounter", strings.NewReader(encounterJSON))
		req.Header.Set("Content-Type", "application/fhir+json")
		resp, err := s.HTTPClient().Do(req)
		if err != nil {
			status <- 0
			return
		}
		resp.Body.Close()
		status <- resp.StatusCode
	}()
	return status
}

func waitHeld(t *testing.T, held <-chan struct{}) {
	t.Helper()
	select {
	case <-held:
	case <-time.After(30 * time.Second):
		t.Fatal("the write was not held within 30s")
	}
}

func TestHoldNextWriteHoldsTheAnswerOfAnAppliedWrite(t *testing.T) {
	s := Start(t)
	held, release := s.HoldNextWrite("Encounter")
	if resp, out := post(t, s.BaseURL+"/Patient", `{"resourceType":"Patient"}`, nil); resp.StatusCode != http.StatusCreated {
		t.Fatalf("a write to another type: %d %v, want 201 without a hold", resp.StatusCode, out)
	}
	answer := postAsync(context.Background(), s)
	waitHeld(t, held)
	if n := search(t, s); n != 1 {
		t.Fatalf("while the answer is held: %d encounters, want 1 (the server applied the write)", n)
	}
	select {
	case code := <-answer:
		t.Fatalf("answered %d while held", code)
	case <-time.After(300 * time.Millisecond):
	}
	release()
	select {
	case code := <-answer:
		if code != http.StatusCreated {
			t.Fatalf("after release: status %d, want 201", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no answer within 30s of release")
	}
	release() // harmless twice

	// A client that goes away while held gets no answer; the proxy goes on.
	held, release = s.HoldNextWrite("")
	ctx, cancel := context.WithCancel(context.Background())
	answer = postAsync(ctx, s)
	waitHeld(t, held)
	cancel()
	if code := <-answer; code != 0 {
		t.Fatalf("a client gone while held got status %d", code)
	}
	release()
	if n := search(t, s); n != 2 {
		t.Fatalf("after two held writes: %d encounters, want 2", n)
	}
	if resp, _ := post(t, s.BaseURL+"/Encounter", encounterJSON, nil); resp.StatusCode != http.StatusCreated {
		t.Fatalf("the write after the holds: %d, want 201 without a hold", resp.StatusCode)
	}
}

func TestStopRefusesConnectionsAndStartKeepsData(t *testing.T) {
	s := Start(t)
	post(t, s.BaseURL+"/Encounter", encounterJSON, nil)
	s.Stop()
	_, err := http.Get(s.BaseURL + "/Encounter")
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("while stopped: err = %v, want connection refused", err)
	}
	s.Start()
	if n := search(t, s); n != 1 {
		t.Fatalf("after restart: %d encounters, want 1", n)
	}
}

func TestMissingPackagesNameTheInstallCommand(t *testing.T) {
	err := checkInstalled(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "make deps") {
		t.Fatalf("checkInstalled(empty dir) = %v, want an error naming make deps", err)
	}
	if err := checkInstalled(medplumDir()); err != nil {
		t.Fatalf("checkInstalled(medplum) = %v", err)
	}
}

func TestSMARTModeRequiresTokens(t *testing.T) {
	s := Start(t, WithSMART("client", "http://127.0.0.1:1/jwks.json", time.Minute))
	resp, oo := post(t, s.BaseURL+"/Encounter", encounterJSON, nil)
	if resp.StatusCode != http.StatusUnauthorized || oo["resourceType"] != "OperationOutcome" {
		t.Fatalf("without a token: %d %v, want 401 OperationOutcome", resp.StatusCode, oo)
	}
	form := url.Values{"grant_type": {"password"}}
	resp, err := http.PostForm(s.TokenURL, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("password grant: %d, want 400", resp.StatusCode)
	}
	form = url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {"a.b.c"}}
	if resp, err = http.PostForm(s.TokenURL, form); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || s.TokensIssued() != 0 {
		t.Fatalf("garbage assertion: %d, %d tokens; want 401 and none", resp.StatusCode, s.TokensIssued())
	}
}
