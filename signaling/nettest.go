package signaling

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/televisit/televisit/sfu"
)

// Network test limits: per socket, a few probes a minute and one at a
// time (a new one replaces the running one); per server, a cap on probes
// alive at once.
const (
	netTestBurst    = 4
	netTestEvery    = 15 * time.Second
	maxServerProbes = 64
	netTestICEName  = "network-test" // the ICEServers argument: names no one
)

// codeNoNetTest: network_test_answer or network_test_candidate without a
// running probe (never started, or it ended).
const codeNoNetTest = "network_test_ended"

// netTest is one socket's network-test state.
type netTest struct {
	probe   *sfu.Probe
	id      string
	limiter *rate.Limiter
}

// netTests is a server's network tests by session. Each entry is
// forgotten when its session's context ends.
type netTests struct {
	mu      sync.Mutex
	m       map[*session]*netTest
	running int
}

// netTestHandlers are the network-check messages: any greeted session may
// probe the media server, admitted or not.
func netTestHandlers() map[string]handler {
	nt := &netTests{m: map[*session]*netTest{}}
	return map[string]handler{
		"network_test":           {fn: nt.handleStart},
		"network_test_answer":    {fn: nt.handleAnswer},
		"network_test_candidate": {fn: nt.handleCandidate},
	}
}

type netTestMsg struct {
	header
	Probe      string      `json:"probe"`
	SDP        string      `json:"sdp"`
	ICEServers []ICEServer `json:"ice_servers"`
}

type netTestCandidateMsg struct {
	header
	Probe     string           `json:"probe"`
	Candidate sfu.ICECandidate `json:"candidate"`
}

// entry returns the session's state, creating it (and its cleanup) on
// first use.
func (nt *netTests) entry(ctx context.Context, s *session) *netTest {
	nt.mu.Lock()
	defer nt.mu.Unlock()
	e := nt.m[s]
	if e == nil {
		e = &netTest{limiter: rate.NewLimiter(rate.Every(netTestEvery), netTestBurst)}
		nt.m[s] = e
		go nt.forgetAtEnd(ctx, s)
	}
	return e
}

func (nt *netTests) forgetAtEnd(ctx context.Context, s *session) {
	<-ctx.Done()
	nt.mu.Lock()
	defer nt.mu.Unlock()
	delete(nt.m, s)
}

// current is the session's running probe, if any.
func (nt *netTests) current(s *session) (*sfu.Probe, string) {
	nt.mu.Lock()
	defer nt.mu.Unlock()
	e := nt.m[s]
	if e == nil || e.probe == nil || e.probe.Closed() {
		return nil, ""
	}
	return e.probe, e.id
}

// reserve counts a new probe against the server's cap.
func (nt *netTests) reserve() bool {
	nt.mu.Lock()
	defer nt.mu.Unlock()
	if nt.running >= maxServerProbes {
		return false
	}
	nt.running++
	return true
}

func (nt *netTests) release(p *sfu.Probe) {
	<-p.Done()
	nt.mu.Lock()
	defer nt.mu.Unlock()
	nt.running--
}

// handleStart starts a probe on the media server and sends its offer with
// the ICE servers (time-limited TURN credentials) the client should test.
func (nt *netTests) handleStart(ctx context.Context, s *session, m inbound) error {
	if s.srv.media == nil {
		return &clientError{code: codeNoMedia, message: "media is not enabled on this server"}
	}
	e := nt.entry(ctx, s)
	if !e.limiter.Allow() {
		return &clientError{code: codeRateLimited, message: "too many network tests: wait a minute"}
	}
	nt.mu.Lock()
	old := e.probe
	nt.mu.Unlock()
	if old != nil {
		old.Close() // one probe per socket: the new test replaces it
	}
	if !nt.reserve() {
		return &clientError{code: codeRateLimited, message: "the server is busy: try the network test again soon"}
	}
	id := probeID()
	p, err := s.srv.media.sfu.Probe(ctx, sfu.ProbeConfig{OnCandidate: func(c sfu.ICECandidate) {
		s.post(netTestCandidateMsg{header: hdr("network_test_candidate", ""), Probe: id, Candidate: c})
	}})
	if err != nil {
		nt.mu.Lock()
		nt.running--
		nt.mu.Unlock()
		return err
	}
	go nt.release(p)
	nt.mu.Lock()
	e.probe, e.id = p, id
	nt.mu.Unlock()
	// Sent from the owner loop before any candidate it posted: the offer
	// comes first.
	return s.send(netTestMsg{header: hdr("network_test", m.ID), Probe: id, SDP: p.Offer(), ICEServers: s.iceServers()})
}

// iceServers are the STUN/TURN servers (fresh credentials) for this
// session's media; never nil.
func (s *session) iceServers() []ICEServer {
	var ice []ICEServer
	if s.cfg.ICEServers != nil {
		ice = s.cfg.ICEServers(netTestICEName)
	}
	if ice == nil {
		ice = []ICEServer{}
	}
	return ice
}

func probeID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// probeFor finds the running probe a client message is about.
func (nt *netTests) probeFor(s *session, probe string) (*sfu.Probe, error) {
	p, id := nt.current(s)
	if p == nil || (probe != "" && probe != id) {
		return nil, &clientError{code: codeNoNetTest, message: "no network test is running: start one with network_test"}
	}
	return p, nil
}

type netTestAnswerPayload struct {
	Probe string `json:"probe"`
	SDP   string `json:"sdp"`
}

type netTestCandidatePayload struct {
	Probe     string           `json:"probe"`
	Candidate sfu.ICECandidate `json:"candidate"`
}

func (nt *netTests) handleAnswer(_ context.Context, s *session, m inbound) error {
	pl, err := payload[netTestAnswerPayload](m)
	if err != nil || pl.SDP == "" {
		return badMessage("sdp is required")
	}
	p, err := nt.probeFor(s, pl.Probe)
	if err != nil {
		return err
	}
	if err := p.SetAnswer(pl.SDP); err != nil {
		if errors.Is(err, sfu.ErrClosed) {
			return &clientError{code: codeNoNetTest, message: "the network test has ended"}
		}
		return &clientError{code: codeBadSDP, message: "the session description was refused"}
	}
	return nil
}

func (nt *netTests) handleCandidate(_ context.Context, s *session, m inbound) error {
	pl, err := payload[netTestCandidatePayload](m)
	if err != nil {
		return err
	}
	p, err := nt.probeFor(s, pl.Probe)
	if err != nil {
		return err
	}
	if err := p.AddCandidate(pl.Candidate); err != nil {
		if errors.Is(err, sfu.ErrClosed) {
			return &clientError{code: codeNoNetTest, message: "the network test has ended"}
		}
		return badMessage("the ICE candidate was refused")
	}
	return nil
}
