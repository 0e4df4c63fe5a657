package ehr

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestRetryableClassification checks which answers and failures may be
// retried, against a plain HTTP server that answers as told.
func TestRetryableClassification(t *testing.T) {
	httpDate := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	for _, tc := range []struct {
		name       string
		status     int
		retryAfter string
		retryable  bool
		wantAfter  time.Duration // lower bound of RetryAfter
	}{
		{"400 bad request", 400, "", false, 0},
		{"401 unauthorized", 401, "", false, 0},
		{"403 forbidden", 403, "", false, 0},
		{"404 not found", 404, "", false, 0},
		{"409 conflict", 409, "", false, 0},
		{"412 precondition failed", 412, "", false, 0},
		{"422 unprocessable", 422, "", false, 0},
		{"408 request timeout", 408, "", true, 0},
		{"429 with seconds", 429, "7", true, 7 * time.Second},
		{"429 with date", 429, httpDate, true, 80 * time.Second},
		{"429 without Retry-After", 429, "", true, 0},
		{"500 internal", 500, "", true, 0},
		{"502 bad gateway", 502, "", true, 0},
		{"503 with seconds", 503, "120", true, 120 * time.Second},
		{"504 gateway timeout", 504, "", true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				w.Header().Set("Content-Type", fhirJSON)
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"processing","diagnostics":"x"}]}`))
			}))
			defer ts.Close()
			_, err := classifyClient(t, ts.URL, time.Minute).SearchByIdentifier(testContext(t), "Encounter", visitSystem, "v")
			var oe *OutcomeError
			if !errors.As(err, &oe) || oe.Status != tc.status || len(oe.Issues) != 1 {
				t.Fatalf("err = %v, want *OutcomeError %d with one issue", err, tc.status)
			}
			if Retryable(err) != tc.retryable {
				t.Fatalf("Retryable = %v, want %v", Retryable(err), tc.retryable)
			}
			if got := RetryAfter(err); got < tc.wantAfter || (tc.wantAfter == 0 && got != 0) || got > tc.wantAfter+15*time.Second {
				t.Fatalf("RetryAfter = %v, want about %v", got, tc.wantAfter)
			}
		})
	}
}

func classifyClient(t *testing.T, base string, timeout time.Duration) *Client {
	t.Helper()
	log, _ := testLogger()
	c, err := NewClient(Config{BaseURL: base, Timeout: timeout}, nil, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTimeoutAndNetworkErrorsAreRetryable(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String()
	ln.Close()

	hangup := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, _ := http.NewResponseController(w).Hijack()
		conn.Close()
	}))
	defer hangup.Close()

	for _, tc := range []struct{ name, url string }{
		{"timeout", slow.URL}, {"connection refused", refused}, {"connection closed", hangup.URL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := classifyClient(t, tc.url, 300*time.Millisecond).SearchByIdentifier(testContext(t), "Encounter", visitSystem, "v")
			var te *TransportError
			if !errors.As(err, &te) || !Retryable(err) {
				t.Fatalf("err = %v (%T), want a retryable *TransportError", err, err)
			}
		})
	}
	t.Run("caller cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(100*time.Millisecond, cancel)
		_, err := classifyClient(t, slow.URL, time.Minute).SearchByIdentifier(ctx, "Encounter", visitSystem, "v")
		if !errors.Is(err, context.Canceled) || Retryable(err) {
			t.Fatalf("err = %v, want context.Canceled, not retryable", err)
		}
	})
}

func TestUnusableAnswersArePermanent(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"html", "<html>proxy</html>"},
		{"not a bundle", `{"resourceType":"Patient","id":"x"}`},
		{"too large", `{"resourceType":"Bundle","type":"searchset"}` + string(bigPadding(2048))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = w.Write([]byte(tc.body))
			}))
			defer ts.Close()
			log, _ := testLogger()
			c, err := NewClient(Config{BaseURL: ts.URL, MaxResponseBytes: 1024}, nil, nil, log)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.SearchByIdentifier(testContext(t), "Encounter", visitSystem, "v")
			var pe *ProtocolError
			if !errors.As(err, &pe) || Retryable(err) {
				t.Fatalf("err = %v (%T), want a permanent *ProtocolError", err, err)
			}
		})
	}
}

func bigPadding(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = ' '
	}
	return b
}

func TestRedirectIsNotFollowed(t *testing.T) {
	var posts atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { posts.Add(1) }))
	defer target.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+r.URL.Path, http.StatusFound)
	}))
	defer redirect.Close()
	enc := rawResource{typ: "Encounter", body: []byte(`{"resourceType":"Encounter"}`)}
	_, _, _, err := classifyClient(t, redirect.URL, time.Minute).Create(testContext(t), enc, "")
	var oe *OutcomeError
	if !errors.As(err, &oe) || oe.Status != http.StatusFound || Retryable(err) || posts.Load() != 0 {
		t.Fatalf("err = %v, %d requests at the target; want a permanent 302 error and none", err, posts.Load())
	}
}
