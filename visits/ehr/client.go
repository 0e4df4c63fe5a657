package ehr

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// fhirJSON is the media type of every request and answer body.
const fhirJSON = "application/fhir+json"

// Authorizer adds credentials to a request to the FHIR server.
type Authorizer interface {
	Authorize(ctx context.Context, req *http.Request) error
}

// tokenInvalidator is an Authorizer that can drop a token the server
// refused with 401, so that the next Authorize fetches a new one.
type tokenInvalidator interface {
	Invalidate(req *http.Request)
}

// Client talks FHIR R4 JSON to one EHR. It is safe for concurrent use.
type Client struct {
	cfg  Config
	auth Authorizer
	http *http.Client
	log  *slog.Logger
}

// NewClient returns a client for cfg.BaseURL. auth may be nil (no
// credentials); httpClient nil means a client with TLS from the system roots
// that does not follow redirects; log nil discards.
func NewClient(cfg Config, auth Authorizer, httpClient *http.Client, log *slog.Logger) (*Client, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if httpClient == nil {
		httpClient = noRedirectClient()
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{cfg: cfg.withDefaults(), auth: auth, http: httpClient, log: log}, nil
}

// answer is a response read in full.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// do sends one request and reads its answer. A 401 with a token-based
// Authorizer is retried once with a fresh token. Non-2xx answers become
// *OutcomeError, failures without an answer *TransportError.
func (c *Client) do(ctx context.Context, op, method, path string, body []byte, header http.Header) (answer, error) {
	a, err := c.send(ctx, op, method, path, body, header)
	if err == nil && a.status == http.StatusUnauthorized {
		if inv, ok := c.auth.(tokenInvalidator); ok {
			inv.Invalidate(a.req)
			a, err = c.send(ctx, op, method, path, body, header)
		}
	}
	if err != nil {
		return answer{}, err
	}
	if a.status < 200 || a.status > 299 {
		return answer{}, errorFromResponse(op, a.status, a.header, a.body, time.Now())
	}
	return a.answer, nil
}

// sent is an answer with the request that got it.
type sent struct {
	answer
	req *http.Request
}

// send makes one attempt: request, answer read within the bounds.
func (c *Client) send(ctx context.Context, op, method, path string, body []byte, header http.Header) (sent, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := c.newRequest(ctx, op, method, path, body, header)
	if err != nil {
		return sent{}, err
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return sent{}, c.transportError(ctx, op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxResponseBytes+1))
	if err != nil {
		return sent{}, c.transportError(ctx, op, fmt.Errorf("read answer: %w", err))
	}
	if int64(len(data)) > c.cfg.MaxResponseBytes {
		return sent{}, &ProtocolError{Op: op, Status: resp.StatusCode, Reason: "answer larger than MaxResponseBytes"}
	}
	c.log.DebugContext(ctx, "ehr request", "op", op, "status", resp.StatusCode, "duration", time.Since(start))
	return sent{answer: answer{status: resp.StatusCode, header: resp.Header, body: data}, req: req}, nil
}

// newRequest builds an authorized FHIR JSON request.
func (c *Client) newRequest(ctx context.Context, op, method, path string, body []byte, header http.Header) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.cfg.BaseURL+path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("ehr: %s: build request: %w", op, err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", fhirJSON)
	if body != nil {
		req.Header.Set("Content-Type", fhirJSON)
	}
	if c.auth != nil {
		if err := c.auth.Authorize(ctx, req); err != nil {
			return nil, fmt.Errorf("ehr: %s: authorize: %w", op, err)
		}
	}
	return req, nil
}

// transportError classifies a failure without an answer: the caller's
// cancellation is returned as is, anything else (timeouts included) is a
// retryable *TransportError.
func (c *Client) transportError(ctx context.Context, op string, err error) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("ehr: %s: %w", op, context.Canceled)
	}
	c.log.WarnContext(ctx, "ehr request failed", "op", op, "err", err)
	return &TransportError{Op: op, Err: err}
}

func encode(op string, r Resource) ([]byte, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("ehr: %s: encode: %w", op, err)
	}
	return data, nil
}

func escapePath(s string) string { return url.PathEscape(s) }
