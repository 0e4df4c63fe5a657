package sfu

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/webrtc/v4"
)

// Participant is one peer in a room: one PeerConnection that publishes
// the peer's tracks and carries every other participant's tracks to it.
//
// Locks: negMu serialises SDP work (offer/answer/rollback) on the
// PeerConnection; mu guards the maps below. Neither is held while calling
// OnSignal, another participant or the room.
type Participant struct {
	room *Room
	id   string
	log  *slog.Logger
	pc   *webrtc.PeerConnection

	signals  *signalQueue
	onSignal func(Signal)

	gateMu    sync.Mutex // orders local SDP before local candidates
	sdpSent   bool
	heldCands []Signal

	negMu          sync.Mutex
	awaitingAnswer bool
	negPending     bool
	iceRestart     bool // the next offer restarts ICE
	peerSpoke      bool // the peer offered or asked for an offer: see negotiate
	pendingCands   []webrtc.ICECandidateInit

	mu     sync.Mutex
	pubs   map[string]*publication        // by stream ID + track ID
	downs  map[*publication]*subscription // what this participant receives
	closed bool

	audioMuted atomic.Bool
	videoMuted atomic.Bool
	estimator  atomic.Pointer[estimatorBox]
	remb       atomic.Int64 // last REMB from this peer, bits/s
	lastShare  atomic.Int64 // ns, last time estimates were shared out

	joined    time.Time   // when Join created it
	connected atomic.Bool // the PeerConnection has been connected once

	done      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
}

// estimatorBox lets an interface value live in an atomic.Pointer.
type estimatorBox struct{ cc.BandwidthEstimator }

// subscription is one forwarded track on this participant's connection.
type subscription struct {
	dt     *downTrack
	sender *webrtc.RTPSender
}

func newParticipant(r *Room, id string, opts JoinOptions) (*Participant, error) {
	p := &Participant{
		room:     r,
		id:       id,
		log:      r.sfu.log.With("room", r.id, "participant", id),
		signals:  newSignalQueue(r.sfu.cfg.SignalQueueLimit),
		onSignal: opts.OnSignal,
		pubs:     map[string]*publication{},
		downs:    map[*publication]*subscription{},
		done:     make(chan struct{}),
		joined:   time.Now(),
		// Unless configured to wait, the SFU may offer first.
		peerSpoke: !r.sfu.cfg.AwaitPeerOffer,
	}
	pc, err := r.sfu.newPeerConnection(func(e cc.BandwidthEstimator) {
		p.estimator.Store(&estimatorBox{e})
	})
	if err != nil {
		return nil, err
	}
	p.pc = pc
	pc.OnICECandidate(p.onICECandidate)
	pc.OnConnectionStateChange(p.onConnectionState)
	pc.OnTrack(p.onTrack)
	p.wg.Add(1)
	go p.signalLoop()
	return p, nil
}

// ID returns the participant's ID.
func (p *Participant) ID() string { return p.id }

// signalLoop delivers queued signals to OnSignal. A consumer too slow to
// keep up with SignalQueueLimit signals gets its participant closed.
func (p *Participant) signalLoop() {
	defer p.wg.Done()
	if p.signals.run(p.done, p.onSignal) {
		p.log.Warn("signal queue overflow, closing participant")
		p.shutdown()
	}
}

func (p *Participant) onICECandidate(c *webrtc.ICECandidate) {
	if c == nil {
		return
	}
	init := c.ToJSON()
	sig := Signal{Kind: SignalCandidate, Candidate: ICECandidate{
		Candidate: init.Candidate, SDPMid: init.SDPMid, SDPMLineIndex: init.SDPMLineIndex,
		UsernameFragment: init.UsernameFragment,
	}}
	p.gateMu.Lock()
	defer p.gateMu.Unlock()
	if !p.sdpSent {
		p.heldCands = append(p.heldCands, sig) // gathering raced the SDP signal
		return
	}
	p.signals.push(sig)
}

// holdCandidates makes candidates gathered from now on wait for the next
// pushSDP. Called before any SDP work that may restart ICE (CreateOffer
// with ICERestart, SetRemoteDescription of a restarting offer, both of
// which start gathering at once): an ICE restart gathers candidates of a
// new generation that the peer cannot use (and drops) before it has the
// SDP that announces it.
func (p *Participant) holdCandidates() {
	p.gateMu.Lock()
	p.sdpSent = false
	p.gateMu.Unlock()
}

// pushSDP queues a local offer or answer, then any candidates gathered
// before it, so that the peer never sees a candidate before an SDP.
func (p *Participant) pushSDP(sig Signal) {
	p.gateMu.Lock()
	defer p.gateMu.Unlock()
	p.signals.push(sig)
	p.openGateLocked()
}

// releaseCandidates reopens the gate without an SDP, when the SDP work
// that held candidates failed.
func (p *Participant) releaseCandidates() {
	p.gateMu.Lock()
	defer p.gateMu.Unlock()
	p.openGateLocked()
}

func (p *Participant) openGateLocked() {
	p.sdpSent = true
	for _, c := range p.heldCands {
		p.signals.push(c)
	}
	p.heldCands = nil
}

func (p *Participant) onConnectionState(s webrtc.PeerConnectionState) {
	p.log.Debug("connection state", "state", s.String())
	if s == webrtc.PeerConnectionStateConnected {
		p.noteConnected()
	}
	p.signals.push(Signal{Kind: SignalState, State: s.String()})
}

// SetMuted stops (or resumes) forwarding this participant's audio or
// video to everyone else. Unmuting video asks for a fresh keyframe.
func (p *Participant) SetMuted(kind webrtc.RTPCodecType, muted bool) {
	flag := &p.videoMuted
	if kind == webrtc.RTPCodecTypeAudio {
		flag = &p.audioMuted
	}
	if flag.Swap(muted) == muted || muted || kind == webrtc.RTPCodecTypeAudio {
		return
	}
	for _, pub := range p.publications() {
		if pub.kind == webrtc.RTPCodecTypeVideo {
			for l := 0; l < int(pub.nLayers.Load()); l++ {
				pub.requestKeyframe(l, p.room.sfu.now())
			}
		}
	}
}

// Muted reports whether this participant's audio or video is muted.
func (p *Participant) Muted(kind webrtc.RTPCodecType) bool {
	if kind == webrtc.RTPCodecTypeAudio {
		return p.audioMuted.Load()
	}
	return p.videoMuted.Load()
}

func (p *Participant) publications() []*publication {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*publication, 0, len(p.pubs))
	for _, pub := range p.pubs {
		out = append(out, pub)
	}
	return out
}

// Close leaves the room: this participant's tracks are removed from
// everyone else, its PeerConnection is closed and Close waits for all of
// its goroutines. Safe to call more than once and concurrently.
func (p *Participant) Close() {
	p.shutdown()
	p.wg.Wait()
}

// shutdown does the work of Close without waiting, so that the
// participant's own goroutines may call it.
func (p *Participant) shutdown() {
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.closed = true
		downs := p.downs
		p.downs = map[*publication]*subscription{}
		p.mu.Unlock()
		for pub, s := range downs {
			pub.removeSub(s.dt)
		}
		for _, pub := range p.room.release(p.id, p) {
			p.room.dropPublication(pub)
		}
		p.room.sfu.reapIfEmpty(p.room)
		if err := p.pc.Close(); err != nil {
			p.log.Debug("close peer connection", "err", err)
		}
		close(p.done)
	})
}
