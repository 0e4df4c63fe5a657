package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Webhook request headers.
const (
	SignatureHeader   = "X-Televisit-Signature" // "sha256=" + hex(HMAC-SHA256(Secret, body))
	IdempotencyHeader = "Idempotency-Key"       // the outbox id, as in the body's "id"
)

// WebhookConfig configures the SMS gateway webhook.
type WebhookConfig struct {
	URL     string        // https endpoint of the gateway; http only for loopback hosts
	Secret  string        // HMAC-SHA256 key, at least 16 bytes
	Timeout time.Duration // per request; default 15s
	// Transport carries the requests; nil: http.DefaultTransport. Tests
	// pass the transport of an httptest TLS server.
	Transport http.RoundTripper
}

func (c *WebhookConfig) setDefaults() {
	if c.Timeout == 0 {
		c.Timeout = 15 * time.Second
	}
	if c.Transport == nil {
		c.Transport = http.DefaultTransport
	}
}

func (c *WebhookConfig) validate() error {
	u, err := url.Parse(c.URL)
	if err != nil || u.Host == "" {
		return errors.New("field URL must be an absolute URL")
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())) {
		return errors.New("field URL must use https (http only for loopback)")
	}
	if len(c.Secret) < 16 {
		return errors.New("field Secret must be at least 16 bytes")
	}
	if c.Timeout < 0 {
		return errors.New("field Timeout must not be negative")
	}
	return nil
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// WebhookSender posts each message as JSON to an SMS gateway:
//
//	POST URL
//	Content-Type: application/json
//	Idempotency-Key: <outbox id>
//	X-Televisit-Signature: sha256=<hex HMAC-SHA256 of the body>
//
//	{"id": <outbox id>, "to": "+15551234567", "body": "..."}
//
// Any 2xx is success. 408, 429 and 5xx are retried; other statuses
// (including redirects, which are not followed) fail for good. Delivery is
// at least once: the gateway should drop repeats of an id. It is safe for
// concurrent use.
type WebhookSender struct {
	cfg    WebhookConfig
	client *http.Client
}

// NewWebhookSender checks cfg, fills in defaults and returns a sender.
func NewWebhookSender(cfg WebhookConfig) (*WebhookSender, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("notify: webhook config: %w", err)
	}
	client := &http.Client{
		Transport:     cfg.Transport,
		Timeout:       cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &WebhookSender{cfg: cfg, client: client}, nil
}

type webhookPayload struct {
	ID   int64  `json:"id"`
	To   string `json:"to"`
	Body string `json:"body"`
}

// Send posts m. Errors name the HTTP status or the transport failure, never
// the URL, the recipient or the gateway's response body.
func (s *WebhookSender) Send(ctx context.Context, m Message) error {
	payload, err := json.Marshal(webhookPayload{ID: m.ID, To: m.Recipient, Body: m.Body})
	if err != nil {
		return permanent("webhook: encode payload")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.URL, bytes.NewReader(payload))
	if err != nil {
		return permanent("webhook: build request")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(IdempotencyHeader, strconv.FormatInt(m.ID, 10))
	req.Header.Set(SignatureHeader, Sign([]byte(s.cfg.Secret), payload))
	resp, err := s.client.Do(req)
	if err != nil {
		return webhookTransportError(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	return webhookStatusError(resp.StatusCode)
}

// Sign returns the X-Televisit-Signature value for body.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// VerifySignature reports whether header is a valid X-Televisit-Signature
// for body, in constant time. For gateways written in Go, and for tests.
func VerifySignature(secret, body []byte, header string) bool {
	return hmac.Equal([]byte(header), []byte(Sign(secret, body)))
}

func webhookStatusError(code int) error {
	switch {
	case code >= 200 && code < 300:
		return nil
	case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests, code >= 500:
		return fmt.Errorf("webhook: status %d", code)
	}
	return permanent(fmt.Sprintf("webhook: status %d", code))
}

// webhookTransportError drops the URL (it may carry a gateway key) that
// *url.Error adds and keeps the cause.
func webhookTransportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("webhook: post: %w", err)
}
