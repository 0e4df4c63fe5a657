package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/televisit/televisit/internal/devoidc/devoidctest"
	"github.com/televisit/televisit/internal/mediaclient"
	"github.com/televisit/televisit/internal/pgtest"
	"github.com/televisit/televisit/internal/sealbox"
	"github.com/televisit/televisit/visits"
)

// The scale-out test runs three real `televisit serve` processes (node-a,
// node-b, node-c) on one PostgreSQL, each on its own loopback port, all
// answering for node A's public URL (the origin the clients send), and two
// Go WebRTC clients (internal/mediaclient) whose "load balancer" is their
// own list of the nodes: the patient starts at A, the clinician at B.

// clusterLease is the nodes' lease: 2 s, or CLUSTER_TEST_LEASE (e.g. 5s,
// the default, to measure the kill figure with it).
var clusterLease = func() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("CLUSTER_TEST_LEASE")); err == nil && d > 0 {
		return d
	}
	return 2 * time.Second
}()

const (
	clusterDrainTimeout = 2 * time.Second
	clusterPatientEmail = "console@example.org" // consoleServer.newVisit's
	waitingRoomLimit    = time.Second           // check-in on A to the snapshot on B
	killResumeLimit     = 10 * time.Second      // SIGKILL to media both ways again
)

// mediaCluster is the three nodes and the demo clinic on their database.
type mediaCluster struct {
	nodes []*mediaNode
	srv   *consoleServer // the public URL and the database's service
}

// mediaNode is one serve process.
type mediaNode struct {
	id, base string
	proc     *serveProcess
}

// startMediaCluster builds the binary and starts the three nodes (A first:
// it migrates the database), then seeds the demo clinic and its staff.
func startMediaCluster(t *testing.T) *mediaCluster {
	t.Helper()
	bin := buildBinary(t)
	ports := []string{freePort(t), freePort(t), freePort(t)}
	public := "http://127.0.0.1:" + ports[0]
	idp := devoidctest.StartDemo(t, public+"/auth/callback")
	spec, err := sealbox.GenerateSpec("k1")
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "phi")
	if err := os.WriteFile(keyFile, []byte(spec+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dbURL := pgtest.NewDBURL(t)
	mc := &mediaCluster{}
	for i, id := range []string{"node-a", "node-b", "node-c"} {
		base := "http://127.0.0.1:" + ports[i]
		env := append(serveEnv(t, ports[i], dbURL, keyFile, idp),
			"TELEVISIT_SERVER_PUBLIC_URL="+public, // the last value wins: one origin for the cluster
			"TELEVISIT_CLUSTER_NODE_ID="+id, "TELEVISIT_CLUSTER_ADVERTISE_URL="+base,
			"TELEVISIT_CLUSTER_LEASE="+clusterLease.String(), "TELEVISIT_CLUSTER_DRAIN_TIMEOUT="+clusterDrainTimeout.String())
		n := &mediaNode{id: id, base: base, proc: startNodeProcess(t, id, bin, env)}
		if i == 0 {
			n.proc.waitReady(t, base) // migrated before the others start
		}
		mc.nodes = append(mc.nodes, n)
	}
	for _, n := range mc.nodes[1:] {
		n.proc.waitReady(t, n.base)
	}
	mc.srv = seedConsoleServer(t, public, dbURL, spec, idp)
	return mc
}

// startNodeProcess runs `televisit serve --migrate` in its own process
// group with env (and no other TELEVISIT_* variable); the test's end kills
// the group and, when the test failed, logs the output's tail.
func startNodeProcess(t *testing.T, id, bin string, env []string) *serveProcess {
	t.Helper()
	p := &serveProcess{out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, "serve", "--migrate")
	p.cmd.Env = append(environWithoutTelevisit(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.kill(t)
		if t.Failed() {
			t.Logf("%s output (tail):\n%s", id, tail(p.out.String(), 5000))
		}
	})
	return p
}

func (mc *mediaCluster) node(id string) *mediaNode {
	for _, n := range mc.nodes {
		if n.id == id {
			return n
		}
	}
	return nil
}

// bases lists the nodes' base URLs starting with node i's.
func (mc *mediaCluster) bases(i int) []string {
	var b []string
	for k := range mc.nodes {
		b = append(b, mc.nodes[(i+k)%len(mc.nodes)].base)
	}
	return b
}

// socketNode is the node c's socket reaches: its ?node= target when it
// asked for one, else the node of its base URL ("" when not joined).
func (mc *mediaCluster) socketNode(c *mediaclient.Client) string {
	base, node, joined := c.Where()
	if !joined {
		return ""
	}
	if node != "" {
		return node
	}
	for _, n := range mc.nodes {
		if n.base == base {
			return n.id
		}
	}
	return ""
}

// roomNode is the node room_placements names for visit, and whether that
// node's lease is alive ("" when there is no placement).
func (mc *mediaCluster) roomNode(t *testing.T, visit uuid.UUID) (string, bool) {
	t.Helper()
	var node string
	var alive bool
	err := mc.srv.pool.QueryRow(context.Background(), `SELECT p.node_id, n.lease_until > now()
		FROM room_placements p JOIN cluster_nodes n ON n.id = p.node_id WHERE p.visit_id = $1`, visit).Scan(&node, &alive)
	if err != nil {
		return "", false
	}
	return node, alive
}

// TestClusterMediaFailover: see the scenarios' comments below. Each step
// needs the one before; the first failure ends the test.
func TestClusterMediaFailover(t *testing.T) {
	mc := startMediaCluster(t)
	top := t // the clients live until the test's end, across its steps
	visit := mc.srv.newVisit(t, clientPatientName, clientPatientDOB, "clinician")
	var patientJar, staff http.CookieJar
	var token string // the patient's link token: a secret, never logged
	var patient, clin *mediaclient.Client
	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"waiting room across nodes", func(t *testing.T) { patientJar, staff, token = clusterWaitingRoom(t, mc, visit) }},
		{"second joiner moved to the room's node", func(t *testing.T) {
			patient, clin = clusterJoin(t, top, mc, visit, patientJar, staff)
		}},
		{"drain moves the room", func(t *testing.T) { clusterDrain(t, mc, visit, patient, clin) }},
		{"kill moves the room", func(t *testing.T) { clusterKill(t, mc, visit, patient, clin) }},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.run) {
			break
		}
	}
	for _, n := range mc.nodes {
		out := n.proc.out.String()
		for _, phi := range []string{clientPatientName, clientPatientDOB, clusterPatientEmail} {
			if strings.Contains(out, phi) {
				t.Errorf("PHI %q in the output of %s", phi, n.id)
			}
		}
		if token != "" && strings.Contains(out, token) {
			t.Errorf("the patient's link token in the output of %s", n.id)
		}
	}
}

// clusterWaitingRoom: the clinician's socket on node B watches the clinic;
// the patient checks in through node A's REST API; B's socket shows the
// patient waiting within a second. It returns the patient's and the
// clinician's cookie jars and the patient's link token.
func clusterWaitingRoom(t *testing.T, mc *mediaCluster, visit uuid.UUID) (patient, staff http.CookieJar, token string) {
	a, b := mc.nodes[0], mc.nodes[1]
	staff = staffJar(t, b.base, mc.srv.base) // signed in through B, back at the public URL (A)
	snaps := watchWaitingRoom(t, b.base, mc.srv.base, staff)
	link, err := mc.srv.svc.IssueLink(context.Background(), seedActor, visit, visits.IssueLinkRequest{})
	if err != nil {
		t.Fatal(err)
	}
	_, token, _ = strings.Cut(link.URL, "#")
	patient, _ = cookiejar.New(nil)
	hc := &http.Client{Jar: patient, Timeout: 30 * time.Second}
	postJSON(t, hc, a.base+"/api/v1/patient/session", map[string]string{"token": token, "date_of_birth": clientPatientDOB})
	start := time.Now()
	postJSON(t, hc, a.base+"/api/v1/patient/check-in", map[string]any{"location_state": "NY", "recording_consent": "no",
		"device_test": map[string]string{"camera": "pass", "microphone": "pass", "speaker": "pass", "network": "good"}})
	deadline := time.After(10 * time.Second)
	for {
		select {
		case s, ok := <-snaps:
			if !ok {
				t.Fatalf("the clinician's socket on %s closed", b.id)
			}
			if s.at.Before(start) || !s.waiting(visit) {
				continue
			}
			latency := s.at.Sub(start)
			t.Logf("check-in on %s reached the waiting room on %s after %d ms", a.id, b.id, latency.Milliseconds())
			if latency > waitingRoomLimit {
				t.Fatalf("waiting room latency %v across nodes; want at most %v", latency, waitingRoomLimit)
			}
			return patient, staff, token
		case <-deadline:
			t.Fatalf("%s's socket never showed the patient waiting after the check-in on %s", b.id, a.id)
		}
	}
}

// clusterJoin: the clinician admits through node B; the patient joins on A
// (the room is placed there), the clinician on B is moved to A and
// reconnects through B's ?node= proxy; media flows both ways. The clients
// are closed at top's end.
func clusterJoin(t, top *testing.T, mc *mediaCluster, visit uuid.UUID, patientJar, staff http.CookieJar) (patient, clin *mediaclient.Client) {
	b := mc.nodes[1]
	hc := &http.Client{Jar: staff, Timeout: 30 * time.Second}
	postJSON(t, hc, b.base+"/api/v1/visits/"+visit.String()+"/admit", nil)
	patient = startMediaClient(top, "patient", mediaclient.Config{Bases: mc.bases(0), Origin: mc.srv.base,
		Jar: patientJar, Sender: patientSender})
	waitEvent(t, patient, 0, 20*time.Second, "the patient's first PeerConnection", isKind(mediaclient.EventPeerBuilt))
	room, _ := mc.roomNode(t, visit)
	if room != mc.nodes[0].id || mc.socketNode(patient) != room {
		t.Fatalf("room on %q, the patient's socket on %q; want both on %s (the first joiner's node)", room, mc.socketNode(patient), mc.nodes[0].id)
	}
	clin = startMediaClient(top, "clinician", mediaclient.Config{Bases: mc.bases(1), Origin: mc.srv.base,
		Jar: staff, VisitID: visit.String(), Sender: clinicianSender})
	moved := waitEvent(t, clin, 0, 20*time.Second, "moved", isKind(mediaclient.EventMoved))
	if moved.Node != room || moved.Reason != "room_elsewhere" || moved.Base != b.base {
		t.Fatalf("the clinician's moved: %v; want node %s, reason room_elsewhere, on %s", moved, room, b.base)
	}
	built := waitEvent(t, clin, 0, 20*time.Second, "the clinician's first PeerConnection", isKind(mediaclient.EventPeerBuilt))
	if base, node, _ := clin.Where(); base != b.base || node != room {
		t.Fatalf("the clinician's socket is on %s ?node=%s; want %s's proxy to %s", base, node, b.id, room)
	}
	took := mediaBothWays(t, patient, clin, built.At)
	t.Logf("room on %s; the clinician joined through %s's proxy; media both ways %d ms after its PeerConnection", room, b.id, took.Milliseconds())
	checkInCall(t, mc, visit, patient)
	return patient, clin
}

// clusterDrain: SIGTERM to the room's node. Both clients get moved
// (draining) within the drain timeout and a few seconds, rejoin on another
// node and exchange media again; the visit stays in progress; the drained
// process exits 0; room_placements names the new node.
func clusterDrain(t *testing.T, mc *mediaCluster, visit uuid.UUID, patient, clin *mediaclient.Client) {
	room, _ := mc.roomNode(t, visit)
	old := mc.node(room)
	from := [2]int{len(patient.Events()), len(clin.Events())}
	term := time.Now()
	if err := old.proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	limit := clusterDrainTimeout + 5*time.Second
	var target string
	for i, c := range []*mediaclient.Client{patient, clin} {
		m := waitEvent(t, c, from[i], limit-time.Since(term), "moved (draining)", isKind(mediaclient.EventMoved))
		if m.Reason != "draining" || m.Node == "" || m.Node == room {
			t.Fatalf("moved %v after SIGTERM to %s; want reason draining and another node", m, room)
		}
		if target != "" && m.Node != target {
			t.Errorf("the clients were moved to %s and %s", target, m.Node)
		}
		target = m.Node
		t.Logf("moved (draining) %d ms after SIGTERM", m.At.Sub(term).Milliseconds())
	}
	select {
	case <-old.proc.done:
	case <-time.After(limit):
		t.Fatalf("%s still running %v after SIGTERM", room, limit)
	}
	exited := time.Now()
	if old.proc.err != nil {
		t.Errorf("%s exited with %v after SIGTERM; want 0", room, old.proc.err)
	}
	took := mediaBothWays(t, patient, clin, exited)
	t.Logf("%s exited %d ms after SIGTERM; media both ways again %d ms later", room, exited.Sub(term).Milliseconds(), took.Milliseconds())
	for i, c := range []*mediaclient.Client{patient, clin} {
		t.Logf("%s after SIGTERM:\n%s", []string{"patient", "clinician"}[i], eventsSince(c, from[i], term))
	}
	now, alive := mc.roomNode(t, visit)
	if now != target || !alive {
		t.Errorf("room_placements names %q (alive %v); want %s, where the clients were moved", now, alive, target)
	}
	waitSockets(t, mc, now, patient, clin)
	for i, c := range []*mediaclient.Client{patient, clin} {
		for _, e := range c.Events()[from[i]:] {
			if e.Kind == mediaclient.EventMediaStopped || e.Kind == mediaclient.EventStopped {
				t.Errorf("during the drain: %v", e)
			}
		}
	}
	checkInCall(t, mc, visit, patient)
}

// clusterKill: SIGKILL to the room's node (the drain's new owner). Both
// clients reconnect and media flows both ways again within 10 s;
// room_placements names a live node.
func clusterKill(t *testing.T, mc *mediaCluster, visit uuid.UUID, patient, clin *mediaclient.Client) {
	room, _ := mc.roomNode(t, visit)
	from := [2]int{len(patient.Events()), len(clin.Events())}
	killed := time.Now()
	mc.node(room).proc.kill(t)
	took := mediaBothWays(t, patient, clin, killed)
	t.Logf("visit resumed %.1f s after kill", took.Seconds())
	for i, c := range []*mediaclient.Client{patient, clin} {
		t.Logf("%s after the kill:\n%s", []string{"patient", "clinician"}[i], eventsSince(c, from[i], killed))
	}
	if took > killResumeLimit {
		t.Errorf("media both ways %v after SIGKILL to %s; want within %v", took, room, killResumeLimit)
	}
	now, alive := mc.roomNode(t, visit)
	if now == room || !alive {
		t.Fatalf("room_placements names %q (alive %v) after %s was killed; want a live node", now, alive, room)
	}
	waitSockets(t, mc, now, patient, clin)
	checkInCall(t, mc, visit, patient)
}

// eventsSince lists c's events from index from on, timed from t0.
func eventsSince(c *mediaclient.Client, from int, t0 time.Time) string {
	var b strings.Builder
	for _, e := range c.Events()[from:] {
		e.At = time.Time{}.Add(e.At.Sub(t0))
		fmt.Fprintf(&b, "  +%s\n", e)
	}
	return b.String()
}

// waitSockets wants both clients' sockets joined on node (directly or
// through a proxy) within a few seconds.
func waitSockets(t *testing.T, mc *mediaCluster, node string, cs ...*mediaclient.Client) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for _, c := range cs {
		for mc.socketNode(c) != node {
			if time.Now().After(deadline) {
				base, n, joined := c.Where()
				t.Fatalf("a client's socket is on %s ?node=%q (joined %v); want it on %s", base, n, joined, node)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// checkInCall: the visit is in progress and was never sent back to the
// waiting room (one admission, no send_back in the audit trail), and every
// patient_status the patient's sockets got (one after each hello) says
// in_progress.
func checkInCall(t *testing.T, mc *mediaCluster, visit uuid.UUID, patient *mediaclient.Client) {
	t.Helper()
	statuses := 0
	for _, e := range patient.Events() {
		if e.Kind == mediaclient.EventPatientStatus {
			statuses++
			if e.Reason != "in_progress" {
				t.Errorf("the patient's socket got status %q (%v); want in_progress throughout", e.Reason, e)
			}
		}
	}
	if statuses == 0 {
		t.Error("the patient's sockets got no patient_status")
	}
	var status string
	var admits, sendBacks int
	err := mc.srv.pool.QueryRow(context.Background(), `SELECT v.status,
		(SELECT count(*) FROM audit_events a WHERE a.visit_id = v.id AND a.action = 'visit.admit' AND a.outcome = 'success'),
		(SELECT count(*) FROM audit_events a WHERE a.visit_id = v.id AND a.action = 'visit.send_back')
		FROM visits v WHERE v.id = $1`, visit).Scan(&status, &admits, &sendBacks)
	if err != nil || status != "in_progress" || admits != 1 || sendBacks != 0 {
		t.Fatalf("visit %s, %d admissions, %d send-backs (%v); want in_progress, admitted once, never sent back", status, admits, sendBacks, err)
	}
}

// waitEvent waits up to d for an event from index from on that match
// accepts.
func waitEvent(t *testing.T, c *mediaclient.Client, from int, d time.Duration, what string, match func(mediaclient.Event) bool) mediaclient.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	e, _, err := c.WaitEvent(ctx, from, match)
	if err != nil {
		t.Fatalf("no %s within %v: %v\n%s", what, d, err, eventLog(c))
	}
	return e
}

func isKind(k mediaclient.EventKind) func(mediaclient.Event) bool {
	return func(e mediaclient.Event) bool { return e.Kind == k }
}

// postJSON posts body (JSON, or nothing when nil) and wants a 2xx.
func postJSON(t *testing.T, hc *http.Client, url string, body any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest("POST", url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		t.Fatalf("POST %s: %d %s", url, resp.StatusCode, b)
	}
}

// roomSnapshot is a waiting_room message as a clinician's socket got it.
type roomSnapshot struct {
	at      time.Time
	entries []struct {
		VisitID uuid.UUID `json:"visit_id"`
		Status  string    `json:"status"`
	}
}

func (s roomSnapshot) waiting(visit uuid.UUID) bool {
	for _, e := range s.entries {
		if e.VisitID == visit && e.Status == "waiting" {
			return true
		}
	}
	return false
}

// watchWaitingRoom opens base's /ws as the signed-in clinician, says hello
// (watching their only clinic) and returns the waiting_room snapshots with
// their arrival times.
func watchWaitingRoom(t *testing.T, base, origin string, jar http.CookieJar) <-chan roomSnapshot {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second, Jar: jar}
	conn, resp, err := d.Dial("ws"+strings.TrimPrefix(base, "http")+"/ws", http.Header{"Origin": {origin}})
	if err != nil {
		t.Fatalf("clinician's waiting-room socket on %s: %v (%v)", base, err, resp)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if err := conn.WriteJSON(map[string]any{"v": 1, "type": "hello"}); err != nil {
		t.Fatal(err)
	}
	out := make(chan roomSnapshot, 256)
	go func() {
		defer close(out)
		for {
			var m struct {
				Type    string          `json:"type"`
				Entries json.RawMessage `json:"entries"`
			}
			if err := conn.ReadJSON(&m); err != nil {
				return
			}
			s := roomSnapshot{at: time.Now()}
			if m.Type != "waiting_room" || json.Unmarshal(m.Entries, &s.entries) != nil {
				continue
			}
			select {
			case out <- s:
			default: // the test stopped reading
			}
		}
	}()
	return out
}
