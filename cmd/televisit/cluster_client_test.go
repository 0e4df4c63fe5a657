package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/televisit/televisit/internal/devoidc/devoidctest"
	"github.com/televisit/televisit/internal/mediaclient"
	"github.com/televisit/televisit/visits"
)

// The media client (internal/mediaclient) against one in-process serve:
// failover past a dead base URL, a dropped socket resumed within the grace
// window (ICE restart on the same PeerConnection), and one that came back
// too late (a new PeerConnection, published again); media both ways after
// each. The cluster tests (cluster_e2e_test.go) add `moved`.

const (
	clientPatientName = "Quinn Clusterton"
	clientPatientDOB  = "1977-05-21"
	patientSender     = 1 // media stamp ids
	clinicianSender   = 2
	mediaWindow       = 20 * time.Second // for media to flow both ways
	mediaMinPackets   = 25               // of each kind, each way (about 0.5 s of audio)
)

// TestMediaClientSingleNode: see above.
func TestMediaClientSingleNode(t *testing.T) {
	srv := startServer(t, serverOptions{env: []string{"TELEVISIT_MEDIA_RESUME_GRACE=2s"}})
	ctx := context.Background()
	visit := srv.newVisit(t, clientPatientName, clientPatientDOB, "clinician")
	token := srv.checkInAs(t, visit, clientPatientDOB, visits.CheckIn{LocationState: "NY", RecordingConsent: "no", DeviceTest: goodDevices})
	if _, err := srv.svc.Admit(ctx, srv.demoClinician(), visit); err != nil {
		t.Fatal(err)
	}
	dead := "http://127.0.0.1:" + freePort(t)
	patient := startMediaClient(t, "patient", mediaclient.Config{Bases: []string{dead, srv.base}, Origin: srv.base,
		Header: http.Header{"Cookie": {"tv_patient=" + token}}, Sender: patientSender})
	// The clinician's backoff (3 s) outlasts the resume grace (2 s).
	clin := startMediaClient(t, "clinician", mediaclient.Config{Bases: []string{srv.base}, Origin: srv.base,
		Jar: staffJar(t, srv.base, srv.base), VisitID: visit.String(), Sender: clinicianSender,
		MinBackoff: 3 * time.Second, MaxBackoff: 3 * time.Second})

	t.Log("first join: the patient's first base is dead")
	mediaBothWays(t, patient, clin, time.Now())
	var evs []mediaclient.Event
	for _, e := range patient.Events() {
		if e.Kind != mediaclient.EventPatientStatus {
			evs = append(evs, e)
		}
	}
	if len(evs) < 4 || evs[0].Kind != mediaclient.EventDialFailed || evs[0].Base != dead ||
		evs[1].Kind != mediaclient.EventConnected || evs[1].Base != srv.base ||
		evs[2].Kind != mediaclient.EventJoined || evs[2].Resumed || evs[2].Participant != "patient" ||
		evs[3].Kind != mediaclient.EventPeerBuilt {
		t.Fatalf("patient events %v; want dial_failed (dead), connected, joined (not resumed), peer_built", evs)
	}

	t.Log("the patient's socket drops: back within the grace window, the place is resumed")
	resumeAfterDrop(t, patient, clin, true)
	t.Log("the clinician's socket drops: back after the grace window, a new PeerConnection")
	resumeAfterDrop(t, clin, patient, false)

	if logs := srv.logs.String(); strings.Contains(logs, clientPatientName) || strings.Contains(logs, clientPatientDOB) {
		t.Error("the server log carries the patient's name or date of birth")
	}
}

// resumeAfterDrop drops c's socket and wants it joined again (resumed as
// said, with an ICE restart or a new PeerConnection) and media both ways.
func resumeAfterDrop(t *testing.T, c, other *mediaclient.Client, resumed bool) {
	t.Helper()
	from := len(c.Events())
	dropped := time.Now()
	c.DropSocket()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	j, at, err := c.WaitEvent(ctx, from, func(e mediaclient.Event) bool { return e.Kind == mediaclient.EventJoined })
	if err != nil {
		t.Fatalf("no join after the drop: %v\n%s", err, eventLog(c))
	}
	if j.Resumed != resumed {
		t.Fatalf("joined resumed=%v after the drop, want %v\n%s", j.Resumed, resumed, eventLog(c))
	}
	want := mediaclient.EventPeerBuilt
	if resumed {
		want = mediaclient.EventICERestart
	}
	e, _, err := c.WaitEvent(ctx, at, func(e mediaclient.Event) bool { return e.Kind == want })
	if err != nil {
		t.Fatalf("no %s after the join: %v\n%s", want, err, eventLog(c))
	}
	// Media counted from the ICE restart or the new PeerConnection on: a
	// dropped socket alone does not stop the old PeerConnection's media.
	took := mediaBothWays(t, c, other, e.At)
	t.Logf("rejoined %.2fs after the drop (resumed=%v); media both ways %.2fs later", j.At.Sub(dropped).Seconds(), resumed, took.Seconds())
}

// startMediaClient starts a client that sends audio and video over
// loopback candidates, closed when the test ends (its events are logged
// when the test failed).
func startMediaClient(t *testing.T, name string, cfg mediaclient.Config) *mediaclient.Client {
	t.Helper()
	cfg.Audio, cfg.Video, cfg.IncludeLoopback = true, true, true
	c, err := mediaclient.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		if t.Failed() {
			t.Logf("%s's events:\n%s", name, eventLog(c))
		}
	})
	return c
}

func eventLog(c *mediaclient.Client) string {
	var b strings.Builder
	for _, e := range c.Events() {
		fmt.Fprintf(&b, "  %s\n", e)
	}
	return b.String()
}

// staffJar signs the demo clinician in through base's /auth/login and the
// development provider; the jar holds the staff session cookie. The
// provider sends the browser back to the public URL's callback.
func staffJar(t *testing.T, base, publicURL string) http.CookieJar {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := devoidctest.Login(ctx, hc, base+"/auth/login", "clinician", "demo-clinician")
	if err != nil {
		t.Fatalf("staff sign-in: %v", err)
	}
	resp.Body.Close()
	me, err := http.NewRequestWithContext(ctx, "GET", publicURL+"/api/v1/me", nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp, err = hc.Do(me); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/me after the sign-in: %v %v", resp, err)
	}
	resp.Body.Close()
	return jar
}

// mediaBothWays waits until each client received mediaMinPackets of audio
// and of video from the other (b's audio and video at a, a's at b) after since; it returns how long that took.
func mediaBothWays(t *testing.T, a, b *mediaclient.Client, since time.Time) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), mediaWindow)
	defer cancel()
	var last time.Time
	for _, w := range []struct {
		to   *mediaclient.Client
		from uint32
	}{{a, b.Sender()}, {b, a.Sender()}} {
		for _, k := range []mediaclient.Kind{mediaclient.Audio, mediaclient.Video} {
			at, err := w.to.WaitReceived(ctx, w.from, k, since, mediaMinPackets)
			if err != nil {
				t.Fatal(err)
			}
			if at.After(last) {
				last = at
			}
		}
	}
	return last.Sub(since)
}
