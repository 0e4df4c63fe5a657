package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// apiClient calls the Televisit HTTP API. A zero token means no bearer.
type apiClient struct {
	base  string
	http  *http.Client
	token string
}

// problemError is a non-2xx answer.
type problemError struct {
	method, path string
	status       int
	body         string
}

func (e *problemError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.method, e.path, e.status, strings.TrimSpace(e.body))
}

// do sends body as JSON (when not nil) and decodes a 2xx answer into out
// (when not nil). A 429 is retried after its Retry-After, a few times.
func (c *apiClient) do(ctx context.Context, method, path string, body, out any) error {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return err
		}
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(raw))
		if err != nil {
			return err
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := c.http.Do(req)
		if err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests && attempt < 5 {
			wait := 3 * time.Second
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 && s <= 60 {
				wait = time.Duration(s) * time.Second
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
			continue
		}
		if resp.StatusCode/100 != 2 {
			return &problemError{method: method, path: path, status: resp.StatusCode, body: string(b)}
		}
		if out != nil {
			if err := json.Unmarshal(b, out); err != nil {
				return fmt.Errorf("%s %s: decoding the answer: %w", method, path, err)
			}
		}
		return nil
	}
}

// newHTTPClient is a client with its own cookie jar. With a non-nil
// source it connects from that local address: each synthetic patient and
// guest comes from its own loopback address (127.0.0.x), as real ones come
// from their own, so the per-address rate limit of the link endpoints
// applies to each of them rather than to the whole run.
func newHTTPClient(source net.IP) *http.Client {
	jar, _ := cookiejar.New(nil)
	d := &net.Dialer{Timeout: 10 * time.Second}
	if source != nil {
		d.LocalAddr = &net.TCPAddr{IP: source}
	}
	tr := &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second}
	return &http.Client{Jar: jar, Transport: tr, Timeout: 30 * time.Second}
}

// clientToken gets an access token with the client credentials grant from
// the server's OpenID provider (the development provider at /oidc).
func clientToken(ctx context.Context, hc *http.Client, tokenURL, id, secret string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", tokenURL, strings.NewReader("grant_type=client_credentials"))
	if err != nil {
		return "", err
	}
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("token for %s: %w", id, err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&tok)
	if resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		return "", fmt.Errorf("token for %s: HTTP %d, no access token", id, resp.StatusCode)
	}
	return tok.AccessToken, nil
}

var (
	formActionRE = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
	formIDRE     = regexp.MustCompile(`<input type="hidden" name="id" value="([^"]+)"`)
)

// staffSignIn signs a staff member in the way a browser does: GET
// /auth/login, which redirects to the OpenID provider's login page, then
// POST its form; the redirects end at the server's callback, which sets the
// staff session cookie in hc's jar. The form is the one of the development
// provider (televisit dev); other providers need a browser.
func staffSignIn(ctx context.Context, hc *http.Client, base, username, password string) error {
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/auth/login", nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("staff sign-in: %w", err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	a, id := formActionRE.FindSubmatch(body), formIDRE.FindSubmatch(body)
	if resp.StatusCode != http.StatusOK || a == nil || id == nil {
		return fmt.Errorf("staff sign-in: no login form at %s (HTTP %d): only the development provider's form is supported", resp.Request.URL.Redacted(), resp.StatusCode)
	}
	target, err := resp.Request.URL.Parse(html.UnescapeString(string(a[1])))
	if err != nil {
		return fmt.Errorf("staff sign-in: form action: %w", err)
	}
	form := url.Values{"id": {html.UnescapeString(string(id[1]))}, "username": {username}, "password": {password}}
	req, err = http.NewRequestWithContext(ctx, "POST", target.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = hc.Do(req)
	if err != nil {
		return fmt.Errorf("staff sign-in: %w", err)
	}
	resp.Body.Close()
	me := &apiClient{base: base, http: hc}
	var who struct {
		Kind  string   `json:"kind"`
		Roles []string `json:"roles"`
	}
	if err := me.do(ctx, "GET", "/api/v1/me", nil, &who); err != nil {
		return fmt.Errorf("staff sign-in as %s failed: %w", username, err)
	}
	for _, r := range who.Roles {
		if r == "clinician" {
			return nil
		}
	}
	return fmt.Errorf("staff sign-in: %s is not a clinician (roles %v)", username, who.Roles)
}

// fragmentToken is the token in a link's URL fragment (/join#<token>).
func fragmentToken(link string) (string, error) {
	u, err := url.Parse(link)
	if err != nil || u.Fragment == "" {
		return "", errors.New("link has no token in its fragment")
	}
	return u.Fragment, nil
}

// visitSetup is one visit made ready for media: in progress, with its
// participants' credentials.
type visitSetup struct {
	id     string
	people []participantCreds
}

// participantCreds is how one participant opens /ws.
type participantCreds struct {
	role string         // patient, clinician, guest
	jar  http.CookieJar // the session cookie: tv_patient, tv_staff or tv_guest
}

// setupVisit schedules a pool visit in clinicID as the scheduler API
// client, issues its link, opens a patient session and checks in, then, as
// the signed-in clinician, admits the patient (the pool visit becomes
// theirs) and invites and admits guests (participants beyond two).
func setupVisit(ctx context.Context, base string, sched, clin *apiClient, clinicID string, n, participants int, source func() net.IP) (*visitSetup, error) {
	var visit struct {
		ID string `json:"id"`
	}
	err := sched.do(ctx, "POST", "/api/v1/visits", map[string]any{
		"clinic_id":        clinicID,
		"starts_at":        time.Now().UTC().Format(time.RFC3339),
		"duration_minutes": 30,
		"reason":           "synthetic load test",
		"patient":          map[string]any{"name": fmt.Sprintf("Load Test Patient %d", n+1), "date_of_birth": "1980-01-01"},
	}, &visit)
	if err != nil {
		return nil, err
	}
	var link struct {
		URL string `json:"url"`
	}
	if err := sched.do(ctx, "POST", "/api/v1/visits/"+visit.ID+"/link", map[string]any{}, &link); err != nil {
		return nil, err
	}
	token, err := fragmentToken(link.URL)
	if err != nil {
		return nil, err
	}
	patientHTTP := newHTTPClient(source())
	patient := &apiClient{base: base, http: patientHTTP}
	if err := patient.do(ctx, "POST", "/api/v1/patient/session", map[string]string{"token": token, "date_of_birth": "1980-01-01"}, nil); err != nil {
		return nil, err
	}
	if err := patient.do(ctx, "POST", "/api/v1/patient/check-in", map[string]any{
		"location_state":    "CA",
		"device_test":       map[string]string{"camera": "pass", "microphone": "pass", "speaker": "pass", "network": "good"},
		"recording_consent": "no",
	}, nil); err != nil {
		return nil, err
	}
	if err := clin.do(ctx, "POST", "/api/v1/visits/"+visit.ID+"/admit", nil, nil); err != nil {
		return nil, err
	}
	// From here on the visit is returned even on error, to be completed.
	v := &visitSetup{id: visit.ID, people: []participantCreds{
		{role: "patient", jar: patientHTTP.Jar},
		{role: "clinician", jar: clin.http.Jar},
	}}
	for g := 2; g < participants; g++ {
		var inv struct {
			URL     string `json:"url"`
			GuestID string `json:"guest_id"`
		}
		if err := clin.do(ctx, "POST", "/api/v1/visits/"+visit.ID+"/guests",
			map[string]string{"display_name": fmt.Sprintf("Load Guest %d", g-1), "role": "other"}, &inv); err != nil {
			return v, err
		}
		gtoken, err := fragmentToken(inv.URL)
		if err != nil {
			return v, err
		}
		guestHTTP := newHTTPClient(source())
		guest := &apiClient{base: base, http: guestHTTP}
		if err := guest.do(ctx, "POST", "/api/v1/guest/session", map[string]string{"token": gtoken}, nil); err != nil {
			return v, err
		}
		if err := clin.do(ctx, "POST", "/api/v1/visits/"+visit.ID+"/guests/"+inv.GuestID+"/admit", nil, nil); err != nil {
			return v, err
		}
		v.people = append(v.people, participantCreds{role: "guest", jar: guestHTTP.Jar})
	}
	return v, nil
}

// firstClinic is the id of the scheduler's clinic with the given slug, or
// of its first clinic when slug is empty.
func firstClinic(ctx context.Context, sched *apiClient, slug string) (string, error) {
	var list struct {
		Items []struct {
			ID   string `json:"id"`
			Slug string `json:"slug"`
		} `json:"items"`
	}
	if err := sched.do(ctx, "GET", "/api/v1/clinics", nil, &list); err != nil {
		return "", err
	}
	for _, c := range list.Items {
		if slug == "" || c.Slug == slug {
			return c.ID, nil
		}
	}
	if slug != "" {
		return "", fmt.Errorf("the scheduler API client has no clinic %q", slug)
	}
	return "", errors.New("the scheduler API client has no clinic")
}
