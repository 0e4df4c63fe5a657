package signaling

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/televisit/televisit/sfu"
	"github.com/televisit/televisit/visits"
)

// startMedia gives the stack's server an SFU on loopback.
func startMedia(t *testing.T, w *world, st *stack) *sfu.SFU {
	t.Helper()
	m, err := sfu.New(sfu.Config{IncludeLoopback: true, AwaitPeerOffer: true}, w.log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	st.srv.EnableMedia(m, st.svc)
	return m
}

// flowing waits until p has received at least n more packets of both kinds
// than it had.
func flowing(t *testing.T, p *wsPeer, n int, within time.Duration) {
	t.Helper()
	a0, v0 := p.got(webrtc.RTPCodecTypeAudio), p.got(webrtc.RTPCodecTypeVideo)
	eventually(t, within, p.name+" to receive audio and video", func() bool {
		return p.got(webrtc.RTPCodecTypeAudio) >= a0+n && p.got(webrtc.RTPCodecTypeVideo) >= v0+n
	})
}

func TestVisitMediaThroughSignaling(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	cfg := testConfig()
	cfg.ResumeGrace = 10 * time.Second
	st := w.start(cfg, nil)
	startMedia(t, w, st)
	cs := st.newClinic(t, "north")
	st.auth.addStaff("clin", cs.clinician)
	p := w.newPatient(t, st, cs, "Rosalind Franklin")
	checkIn(t, st, p)

	patient := newWSPeer(t, "patient")
	patient.connect(st.ts, patientHeaders(p.token))
	// Admission gate: a waiting patient cannot publish or receive anything.
	patient.write(map[string]any{"v": 1, "type": "offer", "sdp": "v=0"})
	if m := patient.await("error", 5*time.Second); m.Code != codeNotJoined {
		t.Fatalf("offer before join: %+v", m)
	}
	patient.write(map[string]any{"v": 1, "type": "join"})
	if m := patient.await("error", 5*time.Second); m.Code != codeNotAdmitted {
		t.Fatalf("join while waiting: %+v", m)
	}
	if n := st.srv.media.sfu.Room(p.visitID.String()).Len(); n != 0 {
		t.Fatalf("a waiting patient has %d PeerConnections in the room", n)
	}

	if _, err := st.svc.Admit(ctx, cs.clinician, p.visitID); err != nil {
		t.Fatal(err)
	}
	clin := newWSPeer(t, "clinician")
	clin.connect(st.ts, staffHeaders("clin"))
	clin.write(map[string]any{"v": 1, "type": "join", "visit_id": p.visitID})
	if m := clin.await("joined", 5*time.Second); m.ParticipantID != "clinician:"+cs.clinician.StaffID.String() {
		t.Fatalf("clinician joined as %q", m.ParticipantID)
	}
	patient.write(map[string]any{"v": 1, "type": "join"})
	if m := patient.await("joined", 5*time.Second); m.ParticipantID != "patient" || len(m.Participants) != 1 {
		t.Fatalf("patient joined: %+v", m)
	}
	clin.await("participant_joined", 5*time.Second)
	patient.publish()
	clin.publish()
	flowing(t, patient, 20, 20*time.Second)
	flowing(t, clin, 20, 20*time.Second)

	patient.write(map[string]any{"v": 1, "type": "chat", "text": "Can you hear me?"})
	if m := clin.await("chat", 5*time.Second); m.Text != "Can you hear me?" || m.From != "patient" {
		t.Fatalf("chat: %+v", m)
	}

	// Sent back: the visit is waiting again, so the room stops for everyone
	// at once (the clinician's grant needs a visit in progress too); the
	// sockets stay.
	if _, err := st.svc.SendBack(ctx, cs.clinician, p.visitID); err != nil {
		t.Fatal(err)
	}
	for _, peer := range []*wsPeer{patient, clin} {
		if m := peer.await("media_stopped", 5*time.Second); m.Reason == "" {
			t.Fatalf("%s: media_stopped without a reason", peer.name)
		}
	}
	if n := st.srv.media.sfu.Room(p.visitID.String()).Len(); n != 0 {
		t.Fatalf("room keeps %d PeerConnections after send-back", n)
	}
	patient.write(map[string]any{"v": 1, "type": "ping"})
	patient.await("pong", 5*time.Second)

	// Admitted again, both join with new PeerConnections.
	if _, err := st.svc.Admit(ctx, cs.clinician, p.visitID); err != nil {
		t.Fatal(err)
	}
	clin = newWSPeer(t, "clinician-again")
	clin.connect(st.ts, staffHeaders("clin"))
	clin.write(map[string]any{"v": 1, "type": "join", "visit_id": p.visitID})
	clin.await("joined", 5*time.Second)
	clin.publish()
	patient2 := newWSPeer(t, "patient-again")
	patient2.connect(st.ts, patientHeaders(p.token))
	patient2.write(map[string]any{"v": 1, "type": "join"})
	patient2.await("joined", 5*time.Second)
	patient2.publish()
	flowing(t, patient2, 20, 20*time.Second)
	flowing(t, clin, 20, 20*time.Second)

	// The socket drops; the patient reconnects within the grace window and
	// resumes the same participant (no ghost), renegotiating with an ICE
	// restart on the same PeerConnection.
	patient2.drop()
	time.Sleep(300 * time.Millisecond)
	patient2.connect(st.ts, patientHeaders(p.token))
	patient2.write(map[string]any{"v": 1, "type": "join"})
	if m := patient2.await("joined", 5*time.Second); !m.Resumed {
		t.Fatalf("reconnect did not resume: %+v", m)
	}
	patient2.restartICE()
	flowing(t, patient2, 20, 20*time.Second)
	flowing(t, clin, 20, 20*time.Second)
	// No candidate of the restarted generation was lost to a race with
	// the SDP that announces it: both sides lost all of theirs once, and
	// the media never came back.
	if n := patient2.droppedCandidates(); n > 0 {
		t.Errorf("the patient dropped %d of the server's candidates: they came before the offer", n)
	}
	if strings.Contains(w.logs.String(), "dropping candidate") {
		t.Error("the SFU dropped candidates of the patient's: they came before the answer")
	}
	if clin.saw("participant_left") {
		t.Fatal("a reconnect within the grace window showed the patient leaving")
	}
	if n := st.srv.media.sfu.Room(p.visitID.String()).Len(); n != 2 {
		t.Fatalf("room has %d participants after a resume, want 2", n)
	}

	// Ending the visit closes everyone's media.
	if _, err := st.svc.Complete(ctx, cs.clinician, p.visitID); err != nil {
		t.Fatal(err)
	}
	for _, peer := range []*wsPeer{patient2, clin} {
		if m := peer.await("media_stopped", 5*time.Second); m.Reason != "visit_ended" {
			t.Fatalf("%s: media_stopped reason %q after the visit ended", peer.name, m.Reason)
		}
	}
	eventually(t, 5*time.Second, "the room to empty", func() bool {
		return st.srv.media.sfu.Room(p.visitID.String()).Len() == 0
	})
}

// A guest (an interpreter) joins after the clinician admits them: three
// participants each receive the other two's audio and video; removing the
// guest ends their media and tells the others.
func TestThreeParticipantsWithGuest(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	st := w.start(testConfig(), nil)
	startMedia(t, w, st)
	cs := st.newClinic(t, "north")
	st.auth.addStaff("clin", cs.clinician)
	p := w.newPatient(t, st, cs, "Lise Meitner")
	checkIn(t, st, p)
	if _, err := st.svc.Admit(ctx, cs.clinician, p.visitID); err != nil {
		t.Fatal(err)
	}
	inv, err := st.svc.InviteGuest(ctx, cs.clinician, p.visitID, visits.GuestInvite{DisplayName: "Otto Frisch", Role: "interpreter"})
	if err != nil {
		t.Fatal(err)
	}
	w.names = append(w.names, "Otto Frisch")
	_, token, _ := strings.Cut(inv.URL, "#")
	gs, err := st.svc.StartGuestSession(ctx, anonymous, token)
	if err != nil {
		t.Fatal(err)
	}
	guest := newWSPeer(t, "guest")
	guest.connect(st.ts, http.Header{"Origin": {testOrigin}, "Cookie": {guestCookie + "=" + gs.Token}})
	guest.write(map[string]any{"v": 1, "type": "join"})
	if m := guest.await("error", 5*time.Second); m.Code != codeNotAdmitted {
		t.Fatalf("guest joined before admission: %+v", m)
	}
	if _, err := st.svc.AdmitGuest(ctx, cs.clinician, p.visitID, inv.GuestID); err != nil {
		t.Fatal(err)
	}

	peers := []*wsPeer{newWSPeer(t, "patient"), newWSPeer(t, "clinician"), guest}
	peers[0].connect(st.ts, patientHeaders(p.token))
	peers[1].connect(st.ts, staffHeaders("clin"))
	for _, peer := range peers {
		peer.write(map[string]any{"v": 1, "type": "join", "visit_id": p.visitID})
		peer.await("joined", 5*time.Second)
		peer.publish()
	}
	for _, peer := range peers {
		// Two others, each sending audio and video: both kinds keep coming.
		flowing(t, peer, 40, 30*time.Second)
	}
	peers[1].write(map[string]any{"v": 1, "type": "remove_participant", "participant_id": "guest:" + inv.GuestID.String()})
	peers[0].await("participant_left", 5*time.Second)
	eventually(t, 5*time.Second, "the guest's PeerConnection to close", func() bool {
		return st.srv.media.sfu.Room(p.visitID.String()).Len() == 2
	})
}

// An offer that crosses the server's own is refused with "glare" (the
// server is the impolite peer); the socket stays usable.
func TestCrossedOffersAreGlare(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	st := w.start(testConfig(), nil)
	startMedia(t, w, st)
	cs := st.newClinic(t, "north")
	p := w.newPatient(t, st, cs, "Chien-Shiung Wu")
	checkIn(t, st, p)
	if _, err := st.svc.Admit(ctx, cs.clinician, p.visitID); err != nil {
		t.Fatal(err)
	}
	c := connect(t, st.ts, patientHeaders(p.token))
	c.hello(nil)
	c.send(map[string]any{"v": 1, "type": "join"})
	c.expectType(5*time.Second, "joined")
	c.send(map[string]any{"v": 1, "type": "publish", "kinds": []string{"audio"}})
	c.expectType(5*time.Second, "offer")

	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	c.send(map[string]any{"v": 1, "type": "offer", "id": "o1", "sdp": offer.SDP})
	m := c.expectType(5*time.Second, "error")
	if m.Code != codeGlare || m.Ref != "o1" {
		t.Fatalf("crossed offer: %+v", m)
	}
	c.send(map[string]any{"v": 1, "type": "ping"})
	c.expectType(5*time.Second, "pong")
}

// A screen share is one more video track: the others receive it beside the
// camera and the microphone.
func TestScreenShareIsAnExtraVideoTrack(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	st := w.start(testConfig(), nil)
	startMedia(t, w, st)
	cs := st.newClinic(t, "north")
	st.auth.addStaff("clin", cs.clinician)
	p := w.newPatient(t, st, cs, "Grace Hopper")
	checkIn(t, st, p)
	if _, err := st.svc.Admit(ctx, cs.clinician, p.visitID); err != nil {
		t.Fatal(err)
	}
	patient, clin := newWSPeer(t, "patient"), newWSPeer(t, "clinician")
	patient.connect(st.ts, patientHeaders(p.token))
	clin.connect(st.ts, staffHeaders("clin"))
	for _, peer := range []*wsPeer{patient, clin} {
		peer.write(map[string]any{"v": 1, "type": "join", "visit_id": p.visitID})
		peer.await("joined", 5*time.Second)
	}
	clin.write(map[string]any{"v": 1, "type": "publish", "kinds": []string{}}) // receive only
	patient.publish()
	eventually(t, 20*time.Second, "camera and microphone at the clinician", func() bool { return clin.trackCount() == 2 })
	patient.shareScreen()
	eventually(t, 20*time.Second, "the screen share at the clinician", func() bool { return clin.trackCount() == 3 })
}
