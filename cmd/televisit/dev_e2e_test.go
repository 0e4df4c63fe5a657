package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/televisit/televisit/internal/devoidc/devoidctest"
	"github.com/televisit/televisit/internal/server"
)

// TestDevEndToEnd runs the real binary: `televisit dev` on a free port with
// a temporary data directory, checks what a newcomer would do with the
// printed banner (API token, staff sign-in, patient link), stops it with
// SIGINT and checks that PostgreSQL stopped; then starts it again on the
// same data to check that the data, the key and the seed survive.
func TestDevEndToEnd(t *testing.T) {
	bin := buildBinary(t)
	dataDir := devDataDir(t)
	port := freePort(t)
	base := "http://127.0.0.1:" + port

	first := startDevProcess(t, bin, dataDir, port)
	first.waitReady(t, base)
	pid := postmasterPID(t, dataDir)
	out := first.stdout.String()
	checkDiscovery(t, base)
	checkHeaders(t, base)
	if body := checkAPIClient(t, base, base+"/oidc/oauth/token", bannerSecret(t, out)); !strings.Contains(body, `"slug":"demo-clinic"`) {
		t.Errorf("the demo clinic is not listed: %s", body)
	}
	checkStaffSignIn(t, base)
	checkPatientLink(t, base, out)
	if n := strings.Count(out, "DEV NOTIFICATION"); n != len(demoPatients) {
		t.Errorf("first start printed %d notifications; want %d (one per seeded visit)", n, len(demoPatients))
	}
	first.interrupt(t)
	checkPostgresStopped(t, dataDir, pid)

	second := startDevProcess(t, bin, dataDir, port)
	second.waitReady(t, base)
	pid = postmasterPID(t, dataDir)
	out = second.stdout.String()
	if strings.Contains(out, "DEV NOTIFICATION") {
		t.Error("second start seeded the demo clinic again")
	}
	checkPatientLink(t, base, out) // the kept key opens the kept data
	second.interrupt(t)
	checkPostgresStopped(t, dataDir, pid)
}

func httpJSON(t *testing.T, c *http.Client, method, u string, body any, header http.Header) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, u, rd)
	for k, v := range header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func checkDiscovery(t *testing.T, base string) {
	t.Helper()
	code, doc := httpJSON(t, http.DefaultClient, "GET", base+"/oidc/.well-known/openid-configuration", nil, nil)
	if code != 200 || doc["issuer"] != base+"/oidc" {
		t.Fatalf("discovery: %d %v", code, doc)
	}
	if doc["token_endpoint"] != base+"/oidc/oauth/token" {
		t.Errorf("token endpoint %v differs from the one the banner prints", doc["token_endpoint"])
	}
}

func checkHeaders(t *testing.T, base string) {
	t.Helper()
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Security-Policy") != server.ContentSecurityPolicy {
		t.Errorf("landing page: %d, CSP %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}
}

// bannerSecret is the api-scheduler secret the banner prints.
func bannerSecret(t *testing.T, banner string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^\s+api-scheduler\s+scheduler\s+(\S+)$`).FindStringSubmatch(banner)
	if m == nil {
		t.Fatalf("banner has no api-scheduler secret:\n%s", banner)
	}
	return m[1]
}

// checkAPIClient follows the banner's curl example: a client-credentials
// token for api-scheduler, then GET /api/v1/clinics with it. It returns
// the response body.
func checkAPIClient(t *testing.T, base, tokenURL, secret string) string {
	t.Helper()
	resp, err := doBearer(base+"/api/v1/clinics", clientToken(t, tokenURL, "api-scheduler", secret))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"items":`) {
		t.Fatalf("GET /api/v1/clinics as api-scheduler: %d %s", resp.StatusCode, b)
	}
	return string(b)
}

// clientToken gets an access token with the client credentials grant.
func clientToken(t *testing.T, tokenURL, id, secret string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", tokenURL, strings.NewReader("grant_type=client_credentials"))
	req.SetBasicAuth(id, secret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	if tok.AccessToken == "" {
		t.Fatalf("no access token for %s: status %d", id, resp.StatusCode)
	}
	return tok.AccessToken
}

func doBearer(u, token string) (*http.Response, error) {
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	return http.DefaultClient.Do(req)
}

// checkStaffSignIn signs the demo clinician in through /auth/login and the
// development provider's login page.
func checkStaffSignIn(t *testing.T, base string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := devoidctest.Login(ctx, c, base+"/auth/login", "clinician", "demo-clinician")
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	resp.Body.Close()
	code, me := httpJSON(t, c, "GET", base+"/api/v1/me", nil, nil)
	roles, _ := me["roles"].([]any)
	if code != 200 || len(roles) != 1 || roles[0] != "clinician" {
		t.Fatalf("GET /api/v1/me after sign-in: %d %v", code, me)
	}
}

// checkPatientLink opens the banner's patient link and answers the
// identity check with the printed date of birth.
func checkPatientLink(t *testing.T, base, banner string) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^\s+(http://\S+/join#(\S+))\n\s+Date of birth for the identity check: (\S+)$`).FindStringSubmatch(banner)
	if m == nil {
		t.Fatalf("banner has no patient link:\n%s", banner)
	}
	if !strings.HasPrefix(m[1], base+"/join#") {
		t.Fatalf("patient link %q is not under %s", m[1], base)
	}
	token, dob := m[2], m[3]
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	if code, body := httpJSON(t, c, "POST", base+"/api/v1/patient/link", map[string]string{"token": token}, nil); code != 200 {
		t.Fatalf("open link: %d %v", code, body)
	}
	if code, body := httpJSON(t, c, "POST", base+"/api/v1/patient/session",
		map[string]string{"token": token, "date_of_birth": dob}, nil); code != 200 {
		t.Fatalf("identity check: %d %v", code, body)
	}
	u, _ := url.Parse(base)
	if len(jar.Cookies(u)) == 0 {
		t.Fatal("no patient session cookie")
	}
	code, view := httpJSON(t, c, "GET", base+"/api/v1/patient/visit", nil, nil)
	if code != 200 || view["clinic_name"] != "Demo Clinic" {
		t.Fatalf("patient view: %d %v", code, view)
	}
}
