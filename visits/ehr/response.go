package ehr

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

const (
	maxIssues      = 50   // issues kept from one OperationOutcome
	maxDiagnostics = 1024 // bytes kept of one issue's text
	maxRetryAfter  = time.Hour
)

// outcomeJSON is the part of an OperationOutcome we read.
type outcomeJSON struct {
	ResourceType string `json:"resourceType"`
	Issue        []struct {
		Severity    string `json:"severity"`
		Code        string `json:"code"`
		Diagnostics string `json:"diagnostics"`
		Details     *struct {
			Text string `json:"text"`
		} `json:"details"`
		Expression []string `json:"expression"`
	} `json:"issue"`
}

// errorFromResponse makes the OutcomeError of a non-2xx answer. A body that
// is not an OperationOutcome (an HTML error page, garbage) gives no issues.
func errorFromResponse(op string, status int, header http.Header, body []byte, now time.Time) *OutcomeError {
	e := &OutcomeError{Op: op, Status: status, Issues: parseIssues(body)}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		e.RetryAfter = parseRetryAfter(header.Get("Retry-After"), now)
	}
	return e
}

// parseIssues reads the issues of an OperationOutcome body, bounded in
// number and size; anything else gives nil.
func parseIssues(body []byte) []Issue {
	var oo outcomeJSON
	if json.Unmarshal(body, &oo) != nil || oo.ResourceType != "OperationOutcome" {
		return nil
	}
	issues := make([]Issue, 0, min(len(oo.Issue), maxIssues))
	for _, in := range oo.Issue {
		if len(issues) == maxIssues {
			break
		}
		text := in.Diagnostics
		if text == "" && in.Details != nil {
			text = in.Details.Text
		}
		issues = append(issues, Issue{
			Severity:    truncate(in.Severity, 32),
			Code:        truncate(in.Code, 64),
			Diagnostics: truncate(text, maxDiagnostics),
			Expression:  truncateAll(in.Expression),
		})
	}
	return issues
}

func truncateAll(exprs []string) []string {
	if len(exprs) > 8 {
		exprs = exprs[:8]
	}
	out := make([]string, 0, len(exprs))
	for _, x := range exprs {
		out = append(out, truncate(x, 256))
	}
	return out
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8Start(s[n]) {
		n--
	}
	return s[:n]
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// parseRetryAfter reads delay-seconds or an HTTP-date, capped at an hour;
// anything else is 0.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.Atoi(v); err == nil {
		d = time.Duration(min(max(secs, 0), int(maxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

// resourceHead is what we read of a resource the server returned.
type resourceHead struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
	Meta         Meta   `json:"meta"`
}

// parseResource reads type, id and version of a 2xx body.
func parseResource(op string, status int, body []byte) (resourceHead, error) {
	var h resourceHead
	if err := json.Unmarshal(body, &h); err != nil {
		return h, &ProtocolError{Op: op, Status: status, Reason: "body is not a JSON resource"}
	}
	if h.ID == "" {
		return h, &ProtocolError{Op: op, Status: status, Reason: "resource has no id"}
	}
	return h, nil
}

// bundleJSON is the part of a searchset Bundle we read.
type bundleJSON struct {
	ResourceType string `json:"resourceType"`
	Entry        []struct {
		Resource resourceHead `json:"resource"`
		Search   *struct {
			Mode string `json:"mode"`
		} `json:"search"`
	} `json:"entry"`
}

// parseSearchIDs returns the ids of the matches of type typ in a searchset.
func parseSearchIDs(op string, status int, typ string, body []byte) ([]string, error) {
	var b bundleJSON
	if err := json.Unmarshal(body, &b); err != nil || b.ResourceType != "Bundle" {
		return nil, &ProtocolError{Op: op, Status: status, Reason: "body is not a Bundle"}
	}
	var ids []string
	for _, e := range b.Entry {
		if e.Search != nil && e.Search.Mode != "" && e.Search.Mode != "match" {
			continue
		}
		if e.Resource.ResourceType == typ && e.Resource.ID != "" {
			ids = append(ids, e.Resource.ID)
		}
	}
	return ids, nil
}
