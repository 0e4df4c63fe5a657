package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/televisit/televisit/internal/browsertest"
	"github.com/televisit/televisit/internal/devoidc/devoidctest"
	"github.com/televisit/televisit/internal/pgtest"
	"github.com/televisit/televisit/internal/sealbox"
)

// The cluster browser test runs two `televisit serve` nodes in-process on
// one database, both answering for node A's origin (public_url), and two
// real Chromium pages loaded from node A. The visit's room is placed on
// node B before anyone joins: both pages get `moved`, reconnect through
// A's /ws?node=node-b proxy and meet on B. Then B drains (as on SIGTERM)
// and moves the room back to A, and last a dead node's expiring lease
// makes the pages fall back to plain /ws; the pages follow each time
// without the patient ever seeing the waiting room again.

// clusterNode is one running `televisit serve` of the test's cluster.
type clusterNode struct {
	id   string
	base string // its own listener, http://127.0.0.1:<port>
	logs *syncBuffer
	stop func() int // ends serve as SIGTERM does (a drain) and returns its exit code
}

// clusterPair is two nodes on one database and the seeded demo clinic.
type clusterPair struct {
	a, b *clusterNode
	srv  *consoleServer // node A's origin, with the shared database's service
}

// startClusterPair starts node-a and node-b on one database, one PHI key
// and one OpenID provider; both have node A's public URL (the origin the
// pages load from) and a drain timeout of 1 s.
func startClusterPair(t *testing.T) *clusterPair {
	t.Helper()
	portA, portB := freePort(t), freePort(t)
	baseA, baseB := "http://127.0.0.1:"+portA, "http://127.0.0.1:"+portB
	idp := devoidctest.StartDemo(t, baseA+"/auth/callback")
	spec, err := sealbox.GenerateSpec("k1")
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "phi")
	if err := os.WriteFile(keyFile, []byte(spec+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dbURL := pgtest.NewDBURL(t)
	nodeEnv := func(id, port string) []string {
		env := serveEnv(t, port, dbURL, keyFile, idp)
		for i, e := range env {
			if strings.HasPrefix(e, "TELEVISIT_SERVER_PUBLIC_URL=") {
				env[i] = "TELEVISIT_SERVER_PUBLIC_URL=" + baseA // one origin for the whole cluster
			}
		}
		return append(env, "TELEVISIT_CLUSTER_NODE_ID="+id,
			"TELEVISIT_CLUSTER_ADVERTISE_URL=http://127.0.0.1:"+port,
			"TELEVISIT_CLUSTER_LEASE=2s", "TELEVISIT_CLUSTER_DRAIN_TIMEOUT=1s")
	}
	a := startClusterNode(t, "node-a", baseA, nodeEnv("node-a", portA))
	b := startClusterNode(t, "node-b", baseB, nodeEnv("node-b", portB))

	srv := seedConsoleServer(t, baseA, dbURL, spec, idp)
	srv.logs = a.logs
	return &clusterPair{a: a, b: b, srv: srv}
}

// startClusterNode runs `televisit serve --migrate` with env until stop or
// the end of the test (which wants exit code 0), and waits until it serves.
func startClusterNode(t *testing.T, id, base string, env []string) *clusterNode {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--migrate"}, stdio{out: logs, err: logs, environ: env})
	}()
	var once sync.Once
	code := 0
	stop := func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(60 * time.Second):
				code = -1
			}
		})
		return code
	}
	n := &clusterNode{id: id, base: base, logs: logs, stop: stop}
	t.Cleanup(func() {
		if c := stop(); c != 0 {
			t.Errorf("%s: serve exited %d (-1: not within 60 s)", id, c)
		}
		if t.Failed() {
			t.Logf("%s log (tail):\n%s", id, tail(logs.String(), 6000))
		}
	})
	waitServing(t, base, done, logs)
	return n
}

// placeRoom writes the visit's room placement naming node, as a node that
// placed the room there would, once node's cluster_nodes row exists.
func (p *clusterPair) placeRoom(t *testing.T, visit uuid.UUID, node string) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var alive bool
		err := p.srv.pool.QueryRow(ctx, `SELECT lease_until > now() FROM cluster_nodes WHERE id = $1`, node).Scan(&alive)
		if err == nil && alive {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no live cluster_nodes row for %s: %v", node, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := p.srv.pool.Exec(ctx, `INSERT INTO room_placements (visit_id, node_id) VALUES ($1, $2)`, visit, node); err != nil {
		t.Fatalf("place the room on %s: %v", node, err)
	}
}

// roomNode is the node room_placements names for visit ("" when none).
func (p *clusterPair) roomNode(t *testing.T, visit uuid.UUID) string {
	t.Helper()
	var node string
	err := p.srv.pool.QueryRow(context.Background(), `SELECT node_id FROM room_placements WHERE visit_id = $1`, visit).Scan(&node)
	if err != nil {
		return ""
	}
	return node
}

// neverWaitingAgainJS: once the page left the waiting room it never came
// back (window.states from recordStatesJS, call_e2e_test.go).
const neverWaitingAgainJS = `(() => { const i = window.states.findIndex((s) => s !== "waiting");
	return i >= 0 && !window.states.slice(i).includes("waiting"); })()`

// onNodeJS: the page's socket was opened with ?node=<node> after moves
// moves, and its call is connected.
func onNodeJS(node string, moves int) string {
	return fmt.Sprintf(`window.call && window.call.socket.node === %q && window.call.socket.moves === %d &&
		window.call.pc && window.call.pc.connectionState === "connected"`, node, moves)
}

// callStateJS describes a page's socket and call, for failure messages.
const callStateJS = `JSON.stringify({state: document.body.dataset.state, node: window.call && window.call.socket.node,
	moves: window.call && window.call.socket.moves, pc: window.call && window.call.pc && window.call.pc.connectionState,
	signaling: window.call && window.call.pc && window.call.pc.signalingState, wantJoined: window.call && window.call.wantJoined})`

// recordMessagesJS starts window.msgs: the type (with an error's code and
// joined's resumed flag) of every server message the page's call sees.
const recordMessagesJS = `(() => { const handle = window.call.handle.bind(window.call); window.msgs = [];
	window.call.handle = (m) => { window.msgs.push([m.type, m.code, m.resumed].filter((x) => x !== undefined).join(":"));
		return handle(m); }; return true; })()`

// waitOnNode waits until the page is connected on node after moves moves.
func waitOnNode(t *testing.T, name string, tab context.Context, node string, moves int, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, browserStepTimeout)
	defer cancel()
	if err := browsertest.WaitFor(ctx, onNodeJS(node, moves), browserStepTimeout); err != nil {
		state, _ := browsertest.Eval[string](tab, callStateJS)
		msgs, _ := browsertest.Eval[[]string](tab, "window.msgs || []")
		t.Logf("%s page's messages recorded (recordMessagesJS): %v", name, msgs)
		t.Fatalf("%s %s: %v; page: %s", name, what, err, state)
	}
}

// TestBrowserClusterMove: a visit whose room lives on node B, with both
// pages served by node A: the join on A answers `moved`, both pages
// reconnect at once through A's /ws?node=node-b proxy, join on B with a new
// PeerConnection and decode each other's video. Node B then drains: the
// room moves to A, the pages follow (a second `moved`) and decode again.
// Last the room is handed to a dead node whose lease runs for 4 more
// seconds: A gives it up (lease_lost), the pages' ?node= sockets get 503
// and fall back to plain /ws until A takes the room over. Throughout, the
// patient page shows the reconnecting banner but never the waiting room.
func TestBrowserClusterMove(t *testing.T) {
	cl := startClusterPair(t)
	srv := cl.srv
	p := demoPatients[0] // assigned to the demo clinician
	ctx := context.Background()
	v, err := createDemoVisit(ctx, srv.svc, srv.clinic, srv.staff, p, time.Now().Truncate(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	link := srv.patientLink(t, v.ID)
	cl.placeRoom(t, v.ID, "node-b")

	patient := browsertest.Start(t, browsertest.WithName("patient"))
	clinician := browsertest.Start(t, browsertest.WithName("clinician"))
	ptab, ctab := patient.Context(), clinician.Context()

	openLink(t, ptab, link, "dob")
	step(t, ptab, "patient confirms the date of birth", func(ctx context.Context) error {
		if err := submitDOB(ctx, p.patient.DateOfBirth); err != nil {
			return err
		}
		return waitState(ctx, "checkin")
	})
	step(t, ptab, "patient checks in and waits", func(ctx context.Context) error {
		if err := evalJS(ctx, `(() => { document.getElementById("location-state").value = "NY";
			document.querySelector('input[name="consent"][value="no"]').checked = true;
			document.getElementById("checkin-form").requestSubmit(); return true; })()`); err != nil {
			return err
		}
		if err := waitState(ctx, "waiting"); err != nil {
			return err
		}
		return evalJS(ctx, recordStatesJS)
	})

	pagesSignIn(t, ctab, srv.base, "/call?visit="+v.ID.String(), "clinician")
	var admitted time.Time
	step(t, ctab, "clinician admits the patient", func(ctx context.Context) error {
		if err := browsertest.WaitFor(ctx, `!document.getElementById("admit").hidden`, browserStepTimeout); err != nil {
			return err
		}
		admitted = time.Now()
		return evalJS(ctx, `(document.getElementById("admit").click(), true)`)
	})

	// Both joins reach A, which answers moved: both pages are now on B.
	for name, tab := range map[string]context.Context{"patient": ptab, "clinician": ctab} {
		waitOnNode(t, name, tab, "node-b", 1, "reconnects through A's ?node=node-b proxy and connects")
	}
	t.Logf("both pages connected on node-b %.1f s after the admission", time.Since(admitted).Seconds())
	decodeBothWays(t, patient, clinician)
	if got := cl.roomNode(t, v.ID); got != "node-b" {
		t.Errorf("room_placements names %q, want node-b", got)
	}
	step(t, ptab, "the patient page showed the reconnecting banner, never the waiting room", func(ctx context.Context) error {
		return evalJS(ctx, neverWaitingAgainJS+` && window.states.includes("reconnecting") &&
			document.body.dataset.state === "in_call" && document.getElementById("reconnecting").hidden`)
	})

	for name, tab := range map[string]context.Context{"patient": ptab, "clinician": ctab} {
		step(t, tab, name+" records the server's messages", func(ctx context.Context) error { return evalJS(ctx, recordMessagesJS) })
	}
	// Node B drains (SIGTERM): after 1 s it moves the room to A, the only
	// node left, and exits 0.
	drained := time.Now()
	if code := cl.b.stop(); code != 0 {
		t.Fatalf("node-b exited %d after its drain", code)
	}
	for name, tab := range map[string]context.Context{"patient": ptab, "clinician": ctab} {
		waitOnNode(t, name, tab, "node-a", 2, "follows the room to A")
	}
	t.Logf("both pages connected on node-a %.1f s after node-b's SIGTERM (drain timeout 1 s)", time.Since(drained).Seconds())
	decodeBothWays(t, patient, clinician)
	if got := cl.roomNode(t, v.ID); got != "node-a" {
		t.Errorf("after node-b's drain room_placements names %q, want node-a", got)
	}
	step(t, ptab, "the patient stayed in the call", func(ctx context.Context) error {
		return evalJS(ctx, neverWaitingAgainJS+` && document.body.dataset.state === "in_call"`)
	})
	cl.takeOverFromDeadNode(t, v.ID, ptab, ctab)
	decodeBothWays(t, patient, clinician)
	if got := cl.roomNode(t, v.ID); got != "node-a" {
		t.Errorf("after node-x's lease ran out room_placements names %q, want node-a", got)
	}
	step(t, ptab, "the patient stayed in the call through all three moves", func(ctx context.Context) error {
		return evalJS(ctx, neverWaitingAgainJS+` && document.body.dataset.state === "in_call"`)
	})
	vv, err := srv.svc.GetVisit(ctx, seedActor, v.ID)
	if err != nil || vv.Status != "in_progress" {
		t.Errorf("visit status %q (%v), want in_progress", vv.Status, err)
	}
	if t.Failed() {
		states, _ := browsertest.Eval[[]string](ptab, "window.states")
		t.Logf("patient page states: %v", states)
	}

	phi := []string{p.patient.Name, p.patient.DateOfBirth, link[strings.Index(link, "#")+1:]}
	for _, b := range []*browsertest.Browser{patient, clinician} {
		checkNoPHI(t, b, phi...)
	}
	for _, n := range []*clusterNode{cl.a, cl.b} {
		logs := n.logs.String()
		if slices.ContainsFunc(phi, func(s string) bool { return strings.Contains(logs, s) }) {
			t.Errorf("%s's log carries the patient's name, date of birth or link token", n.id)
		}
	}
}

// takeOverFromDeadNode hands the room to node-x, a node with a live lease
// for a few more seconds that nobody can reach (its address is a closed
// port), as if it had claimed the room and died. Node A sees the room
// placed elsewhere and sends its participants `moved` (lease_lost) to
// node-x; their ?node=node-x sockets get 503 from A's proxy, so the pages
// fall back to plain /ws with backoff (and get `moved` again while node-x's
// lease lasts) until the lease runs out and A takes the room over (a
// ?node=node-x socket is then served by A itself: node-x is expired).
func (p *clusterPair) takeOverFromDeadNode(t *testing.T, visit uuid.UUID, tabs ...context.Context) {
	t.Helper()
	ctx := context.Background()
	dead := "http://127.0.0.1:" + freePort(t) // closed again: connections are refused
	for _, tab := range tabs {
		if err := evalJS(tab, `(window.pcBeforeTakeOver = window.call.pc, true)`); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	if _, err := p.srv.pool.Exec(ctx, `INSERT INTO cluster_nodes (id, advertise_url, lease_until)
		VALUES ('node-x', $1, now() + interval '4 seconds')`, dead); err != nil {
		t.Fatal(err)
	}
	if _, err := p.srv.pool.Exec(ctx, `UPDATE room_placements SET node_id = 'node-x', epoch = epoch + 1
		WHERE visit_id = $1`, visit); err != nil {
		t.Fatal(err)
	}
	for i, tab := range tabs {
		ctx, cancel := context.WithTimeout(tab, browserStepTimeout)
		err := browsertest.WaitFor(ctx, `window.call.socket.moves >= 3 && window.call.pc !== window.pcBeforeTakeOver &&
			window.call.pc && window.call.pc.connectionState === "connected"`, browserStepTimeout)
		cancel()
		if err != nil {
			state, _ := browsertest.Eval[string](tab, callStateJS)
			msgs, _ := browsertest.Eval[[]string](tab, "window.msgs || []")
			t.Fatalf("page %d after node-x took the room: %v; page: %s; messages since node-b's drain: %v", i, err, state, msgs)
		}
	}
	t.Logf("both pages connected on node-a %.1f s after the room was handed to the unreachable node-x (its lease: 4 s)",
		time.Since(start).Seconds())
	if !strings.Contains(p.a.logs.String(), `"msg":"cluster proxy: node unreachable","component":"cluster","node":"node-a","target":"node-x"`) {
		t.Error("node-a's log does not show a ?node=node-x socket refused (503): the fallback to plain /ws was not exercised")
	}
}
