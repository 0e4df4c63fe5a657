package ehr

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// FuzzParseResponse feeds arbitrary answers to every parser of server
// output: none may panic, errors keep their bounds, and the classification
// depends on the status only.
func FuzzParseResponse(f *testing.F) {
	f.Add(400, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"structure","details":{"text":"Missing required property"},"expression":["Encounter.status"]}]}`, "")
	f.Add(429, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"throttled","diagnostics":"slow down"}]}`, "5")
	f.Add(503, "<html>down</html>", "Wed, 21 Oct 2015 07:28:00 GMT")
	f.Add(200, `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Encounter","id":"a"},"search":{"mode":"match"}}]}`, "")
	f.Add(201, `{"resourceType":"Encounter","id":"x","meta":{"versionId":"1"}}`, "")
	f.Add(200, `{"access_token":"t","token_type":"bearer","expires_in":300}`, "")
	f.Add(401, `{"error":"invalid_client"}`, "-1")
	f.Fuzz(func(t *testing.T, status int, body, retryAfter string) {
		h := http.Header{}
		h.Set("Retry-After", retryAfter)
		e := errorFromResponse("op", status, h, []byte(body), time.Now())
		if len(e.Issues) > maxIssues {
			t.Fatalf("%d issues kept", len(e.Issues))
		}
		for _, is := range e.Issues {
			if len(is.Diagnostics) > maxDiagnostics || len(is.Expression) > 8 {
				t.Fatalf("issue not bounded: %d bytes, %d expressions", len(is.Diagnostics), len(is.Expression))
			}
		}
		if e.RetryAfter < 0 || e.RetryAfter > maxRetryAfter {
			t.Fatalf("RetryAfter %v out of range", e.RetryAfter)
		}
		if got, want := e.Retryable(), status >= 500 || status == 408 || status == 429; got != want {
			t.Fatalf("status %d: Retryable %v", status, got)
		}
		if msg := e.Error(); len(body) > 40 && strings.Contains(msg, body) {
			t.Fatalf("error text copies the body: %q", msg)
		}
		_, _ = parseResource("op", status, []byte(body))
		_, _ = parseSearchIDs("op", status, "Encounter", []byte(body))
		if tok, ttl, err := parseTokenAnswer(status, []byte(body)); err == nil && (tok == "" || ttl <= 0) {
			t.Fatalf("token answer accepted without token or lifetime: %q %v", tok, ttl)
		}
	})
}
