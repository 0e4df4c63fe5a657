package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/televisit/televisit/internal/devoidc"
	"github.com/televisit/televisit/internal/devoidc/devoidctest"
	"github.com/televisit/televisit/internal/fhirtest"
	"github.com/televisit/televisit/internal/pgtest"
	"github.com/televisit/televisit/internal/sealbox"
	"github.com/televisit/televisit/visits"
	"github.com/televisit/televisit/visits/ehr"
)

const (
	ehrTestNote    = "S: sore throat 3 days. O: tonsils red. P: rapid strep test."
	ehrTestPatient = "Grace Hopper"
)

// ehrServe is `serve` with an EHR endpoint using SMART Backend Services
// against the real FHIR server, which fetches our JWKS from serve itself.
type ehrServe struct {
	base, cfgFile, keyFile string
	env                    []string
	fhir                   *fhirtest.Server
	svc                    *visits.Service // the test's own service on serve's database
	adminToken             string
	logs                   *syncBuffer
	stop                   func() // stops the first serve process
}

func newEHRServe(t *testing.T) *ehrServe {
	t.Helper()
	port := freePort(t)
	s := &ehrServe{base: "http://127.0.0.1:" + port, logs: &syncBuffer{}}
	s.fhir = fhirtest.Start(t, fhirtest.WithSMART("televisit-test", s.base+"/.well-known/jwks.json", time.Minute))
	idp := devoidctest.StartDemo(t, s.base+"/auth/callback")
	web := idp.Client(t, devoidc.DemoWebClient)
	spec, err := sealbox.GenerateSpec("k1")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	phiFile := filepath.Join(dir, "phi")
	s.keyFile, s.cfgFile = filepath.Join(dir, "ehr.pem"), filepath.Join(dir, "televisit.yaml")
	yaml := fmt.Sprintf(`server:
  addr: 127.0.0.1:%s
  public_url: %s
ehr:
  endpoints:
    - name: main
      base_url: %s
      auth: smart
      client_id: televisit-test
      token_url: %s
      key_file: %s
      scope: system/*.write system/*.read
  poll_interval: 100ms
  retry_base: 100ms
  retry_max: 500ms
`, port, s.base, s.fhir.BaseURL, s.fhir.TokenURL, s.keyFile)
	for name, content := range map[string][]byte{phiFile: []byte(spec + "\n"), s.keyFile: ecKeyPEM(t), s.cfgFile: []byte(yaml)} {
		if err := os.WriteFile(name, content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	dbURL := pgtest.NewDBURL(t)
	s.env = []string{"TELEVISIT_DATABASE_URL=" + dbURL, "TELEVISIT_KEYS_PHI_FILE=" + phiFile,
		"TELEVISIT_AUTH_ISSUER=" + idp.Issuer, "TELEVISIT_AUTH_CLIENT_ID=" + web.ID,
		"TELEVISIT_AUTH_CLIENT_SECRET=" + web.Secret, "TELEVISIT_MEDIA_UDP_PORT=0"}
	s.stop = s.start(t)
	t.Cleanup(s.stop)
	keys, err := sealbox.ParseKeyring(spec)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := openPool(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if s.svc, err = visits.NewService(visits.Config{PublicURL: s.base}, pool, keys, newLogger(io.Discard, "error", true)); err != nil {
		t.Fatal(err)
	}
	s.adminToken = clientToken(t, idp.Issuer+"/oauth/token", "api-admin", idp.Client(t, "api-admin").Secret)
	return s
}

// start runs serve until the returned function stops it (what SIGTERM does).
func (s *ehrServe) start(t *testing.T) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", s.cfgFile, "--migrate"}, stdio{out: s.logs, err: s.logs, environ: s.env})
	}()
	waitServing(t, s.base, done, s.logs)
	stopped := false
	return func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("serve exited %d:\n%s", code, s.logs)
			}
		case <-time.After(60 * time.Second):
			t.Error("serve did not stop within 60s")
		}
	}
}

func ecKeyPEM(t *testing.T) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// api calls the admin API and decodes the answer into out.
func (s *ehrServe) api(t *testing.T, method, path string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+s.adminToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode == 200 {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}

// fhirClient talks to the FHIR server as the test, with its own SMART
// token from the same key (the server checks it against serve's JWKS).
func (s *ehrServe) fhirClient(t *testing.T) *ehr.Client {
	t.Helper()
	auth, err := ehr.NewSMARTBackend(ehr.SMARTConfig{ClientID: "televisit-test", TokenURL: s.fhir.TokenURL,
		KeyFile: s.keyFile, Scope: "system/*.write system/*.read"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ehr.NewClient(ehr.Config{BaseURL: s.fhir.BaseURL}, auth, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type rawFHIR struct{ typ, body string }

func (r rawFHIR) FHIRType() string             { return r.typ }
func (r rawFHIR) MarshalJSON() ([]byte, error) { return []byte(r.body), nil }

// waitDelivered waits until the admin API shows n delivered jobs and none
// open.
func (s *ehrServe) waitDelivered(t *testing.T, n int) visits.EHRJobList {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		var all, done visits.EHRJobList
		s.api(t, "GET", "/api/v1/ehr/jobs", nil, &all)
		s.api(t, "GET", "/api/v1/ehr/jobs?state=delivered", nil, &done)
		if len(done.Items) == n && len(all.Items) == n {
			return done
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobs not delivered: %+v\n%s", all.Items, tail(s.logs.String(), 4000))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestServeEHRWriteback runs serve with an EHR endpoint on SMART Backend
// Services: our JWKS is served at /.well-known/jwks.json, the admin sets
// the clinic's profile over the API, a visit's Encounter and note reach
// the EHR, and a job queued while the EHR is down is delivered once by the
// restarted process.
func TestServeEHRWriteback(t *testing.T) {
	s := newEHRServe(t)
	ctx := context.Background()
	checkJWKS(t, s.base+"/.well-known/jwks.json")
	checkJWKS(t, s.base+"/.well-known/jwks/main.json")

	fc := s.fhirClient(t)
	patient, _, _, err := fc.Create(ctx, rawFHIR{"Patient", `{"resourceType":"Patient","name":[{"family":"Hopper"}]}`}, "")
	if err != nil {
		t.Fatal(err)
	}
	pract, _, _, err := fc.Create(ctx, rawFHIR{"Practitioner", `{"resourceType":"Practitioner","name":[{"family":"Clin"}]}`}, "")
	if err != nil {
		t.Fatal(err)
	}
	clinic, err := s.svc.EnsureClinic(ctx, "north", "North", "America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	clin, sched := ehrStaff(t, s.svc, "clin", visits.RoleClinician, clinic.ID), ehrStaff(t, s.svc, "sched", visits.RoleScheduler, clinic.ID)
	var prof visits.ClinicEHR
	if code := s.api(t, "PUT", "/api/v1/clinics/"+clinic.ID.String()+"/ehr",
		map[string]any{"profile": "generic", "endpoint": "main", "identifier_system": "urn:televisit:north"}, &prof); code != 200 {
		t.Fatalf("PUT clinic EHR profile: %d", code)
	}
	if code := s.api(t, "PUT", "/api/v1/ehr/practitioners/"+clin.StaffID.String(), map[string]any{"practitioner_id": pract}, nil); code != 200 {
		t.Fatalf("PUT practitioner: %d", code)
	}

	v := ehrVisit(t, s.svc, sched, clin, clinic.ID, patient)
	if _, err := s.svc.Complete(ctx, clin, v); err != nil {
		t.Fatal(err)
	}
	done := s.waitDelivered(t, 4)
	enc, err := fc.SearchByIdentifier(ctx, "Encounter", "urn:televisit:north", v.String())
	if err != nil || len(enc) != 1 {
		t.Fatalf("encounters %v %v", enc, err)
	}
	docs, err := fc.SearchByIdentifier(ctx, "DocumentReference", "urn:televisit:north", v.String()+"/note/1")
	if err != nil || len(docs) != 1 || done.Items[0].State != visits.JobDelivered {
		t.Fatalf("documents %v %v", docs, err)
	}
	if n := s.fhir.TokensIssued(); n > 3 {
		t.Errorf("%d SMART tokens issued: serve must cache its token", n)
	}

	// The EHR goes down; the clinician amends; serve stops and starts
	// again while the job waits; the EHR comes back.
	s.fhir.Stop()
	note, err := s.svc.GetNote(ctx, clin, v)
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.svc.SaveNoteDraft(ctx, clin, v, ehrTestNote+" Strep negative.", note.Draft.Revision)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.SignNote(ctx, clin, v, d.Revision); err != nil {
		t.Fatal(err)
	}
	waitFailedAttempt(t, s)
	s.stop()
	stop := s.start(t) // serve again, on the same database
	s.fhir.Start()
	s.waitDelivered(t, 5)
	stop()
	docs, err = fc.SearchByIdentifier(ctx, "DocumentReference", "urn:televisit:north", v.String()+"/note/2")
	if err != nil || len(docs) != 1 {
		t.Fatalf("amendment documents %v %v", docs, err)
	}
	for _, phi := range []string{ehrTestNote[:20], ehrTestPatient, "Hopper"} {
		if strings.Contains(s.logs.String(), phi) {
			t.Errorf("PHI %q in serve's log", phi)
		}
	}
}

func waitFailedAttempt(t *testing.T, s *ehrServe) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		var l visits.EHRJobList
		s.api(t, "GET", "/api/v1/ehr/jobs?state=pending", nil, &l)
		if len(l.Items) == 1 && l.Items[0].Attempts > 0 && l.Items[0].LastError != "" {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("the amendment was not tried while the EHR was down")
}

func checkJWKS(t *testing.T, url string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct {
			Kty, Kid, Alg, Crv string
			D                  string `json:"d"`
		} `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil || resp.StatusCode != 200 || len(set.Keys) != 1 {
		t.Fatalf("GET %s: %d %+v %v", url, resp.StatusCode, set, err)
	}
	if k := set.Keys[0]; k.Kty != "EC" || k.Crv != "P-384" || k.Kid == "" || k.D != "" {
		t.Fatalf("JWKS key %+v: want a public EC P-384 key with a kid", k)
	}
}

func ehrStaff(t *testing.T, svc *visits.Service, subject string, role visits.Role, clinic uuid.UUID) visits.Actor {
	t.Helper()
	id, err := svc.EnsureStaff(context.Background(), "https://idp.test", subject, "Dr "+subject, []string{string(role)}, []uuid.UUID{clinic})
	if err != nil {
		t.Fatal(err)
	}
	return visits.Actor{Kind: visits.ActorStaff, ID: id.String(), StaffID: id, Roles: []visits.Role{role}, ClinicIDs: []uuid.UUID{clinic}}
}

// ehrVisit schedules a visit, checks the patient in, admits them and signs
// the note; it returns the visit id.
func ehrVisit(t *testing.T, svc *visits.Service, sched, clin visits.Actor, clinic uuid.UUID, patient string) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	v, err := svc.CreateVisit(ctx, sched, visits.NewVisit{ClinicID: clinic, ClinicianID: &clin.StaffID,
		StartsAt: time.Now().Add(5 * time.Minute), DurationMinutes: 20,
		Patient: visits.Patient{Name: ehrTestPatient, DateOfBirth: "1976-12-09", Email: "g@example.com", EHRPatientID: patient}})
	if err != nil {
		t.Fatal(err)
	}
	link, err := svc.IssueLink(ctx, sched, v.ID, visits.IssueLinkRequest{})
	if err != nil {
		t.Fatal(err)
	}
	_, token, _ := strings.Cut(link.URL, "#")
	anon := visits.Actor{Kind: visits.ActorAnonymous, ID: "anonymous"}
	ps, err := svc.VerifyPatient(ctx, anon, token, "1976-12-09")
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.AuthenticatePatient(ctx, ps.Token, "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CheckIn(ctx, p, visits.CheckIn{LocationState: "NY", RecordingConsent: "no",
		DeviceTest: visits.DeviceTest{Camera: "pass", Microphone: "pass", Speaker: "pass", Network: "good"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Admit(ctx, clin, v.ID); err != nil {
		t.Fatal(err)
	}
	d, err := svc.SaveNoteDraft(ctx, clin, v.ID, ehrTestNote, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SignNote(ctx, clin, v.ID, d.Revision); err != nil {
		t.Fatal(err)
	}
	return v.ID
}

// TestLoadEHRSection reads the ehr section `dev --ehr-config` takes.
func TestLoadEHRSection(t *testing.T) {
	if c, err := loadEHRSection(""); err != nil || c.Enabled() {
		t.Fatalf("no file: %+v %v", c, err)
	}
	f := filepath.Join(t.TempDir(), "ehr.yaml")
	yaml := "ehr:\n  endpoints:\n    - name: local\n      base_url: http://127.0.0.1:8103/fhir/R4\n      auth: none\n"
	if err := os.WriteFile(f, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := loadEHRSection(f)
	if err != nil || len(c.Endpoints) != 1 || c.Endpoints[0].Name != "local" {
		t.Fatalf("ehr section %+v %v", c, err)
	}
	if err := os.WriteFile(f, []byte("ehr:\n  endpoint: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadEHRSection(f); err == nil || !strings.Contains(err.Error(), "endpoint") {
		t.Fatalf("unknown key: %v", err)
	}
}
