package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/televisit/televisit/internal/mediaclient"
)

const (
	kindAudio = mediaclient.Audio
	kindVideo = mediaclient.Video
)

// streamKey is one (sender, track) stream as a receiver sees it.
type streamKey struct {
	sender uint32
	kind   mediaclient.Kind
}

// streamStats counts one stream inside the measurement window. Sequence
// numbers are remembered in a bitmap from the first one seen, so that
// retransmissions (answers to NACKs) count as duplicates, not as packets.
type streamStats struct {
	base, max uint32
	bits      []uint64
	unique    int // distinct sequence numbers at or after base
	dups      int // the same sequence number again
	early     int // sequence numbers before base (reordered across the window's start)
}

func newStreamStats(seq uint32) *streamStats {
	return &streamStats{base: seq, max: seq}
}

// add records seq and reports whether it was new.
func (s *streamStats) add(seq uint32) bool {
	if seq < s.base {
		s.early++
		return true
	}
	off := seq - s.base
	if off >= 1<<24 { // nonsense: no run sends 16 M packets per stream
		return false
	}
	w := int(off / 64)
	for len(s.bits) <= w {
		s.bits = append(s.bits, 0)
	}
	if s.bits[w]&(1<<(off%64)) != 0 {
		s.dups++
		return false
	}
	s.bits[w] |= 1 << (off % 64)
	s.unique++
	if seq > s.max {
		s.max = seq
	}
	return true
}

// expected is how many packets the stream sent from the first to the last
// one received in the window; lost are those of them never received.
func (s *streamStats) expected() int { return int(s.max-s.base) + 1 }
func (s *streamStats) lost() int     { return s.expected() - s.unique }

// gaps lists the runs of missing sequence numbers as [offset, length].
func (s *streamStats) gaps() [][2]int {
	var out [][2]int
	n := s.expected()
	for i := 0; i < n; {
		if s.bits[i/64]&(1<<(i%64)) != 0 {
			i++
			continue
		}
		j := i
		for j < n && s.bits[j/64]&(1<<(j%64)) == 0 {
			j++
		}
		out = append(out, [2]int{i, j - i})
		i = j
	}
	return out
}

// peer is one synthetic participant: a mediaclient.Client (the signaling
// socket, a PeerConnection that sends synthetic audio and video with
// stamped payloads and receives the others') whose packets are counted
// here while the measurement window is open.
type peer struct {
	id      uint32
	visitID string
	creds   participantCreds
	cfg     *Config
	meas    *atomic.Bool // the measurement window is open

	client *mediaclient.Client

	mu          sync.Mutex
	openedAt    time.Time // WebSocket open
	joined      bool
	firstMedia  time.Time
	joinErr     string
	streams     map[streamKey]*streamStats
	seen        map[streamKey]bool // streams seen at all (readiness)
	delaysMicro []int64            // one-way delays, µs (a reservoir sample)
	delaySeen   int
	sent        [2]int // in the window: audio, video
}

// start starts the client: it connects, joins the visit and publishes in
// the background, and reconnects after a drop like a real client (each
// failure is reported as the peer's join error).
func (p *peer) start(ctx context.Context, base, origin string) error {
	p.streams = map[streamKey]*streamStats{}
	p.seen = map[streamKey]bool{}
	cfg := mediaclient.Config{Bases: []string{base}, Origin: origin, Jar: p.creds.jar, Sender: p.id,
		Audio: p.cfg.Audio, Video: p.cfg.VideoBitrate > 0, VideoBitrate: int(p.cfg.VideoBitrate),
		KeyframeInterval: p.cfg.KeyframeInterval, IncludeLoopback: true, DialTimeout: 10 * time.Second,
		OnEvent: p.onEvent, OnPacket: p.onPacket, OnSent: p.onSent}
	if p.creds.role == "clinician" {
		cfg.VisitID = p.visitID
	}
	c, err := mediaclient.Start(ctx, cfg)
	if err != nil {
		return err
	}
	p.client = c
	return nil
}

func (p *peer) onEvent(e mediaclient.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e.Kind {
	case mediaclient.EventConnected:
		if p.openedAt.IsZero() {
			p.openedAt = e.At
		}
	case mediaclient.EventJoined:
		p.joined = true
	case mediaclient.EventDialFailed, mediaclient.EventDropped, mediaclient.EventStopped:
		p.fail("websocket: %s", e.Err)
	case mediaclient.EventError:
		p.fail("server error %s %s", e.Reason, e.Err)
	case mediaclient.EventMediaStopped:
		p.fail("media stopped: %s", e.Reason)
	case mediaclient.EventSessionEnded:
		p.fail("session ended: %s", e.Reason)
	case mediaclient.EventMoved:
		p.fail("moved to node %q: %s", e.Node, e.Reason)
	}
}

// fail keeps the first failure; under p.mu.
func (p *peer) fail(format string, args ...any) {
	if p.joinErr == "" {
		p.joinErr = fmt.Sprintf(format, args...)
	}
}

func (p *peer) onSent(k mediaclient.Kind, n int) {
	if !p.meas.Load() {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if k == kindAudio {
		p.sent[0] += n
	} else {
		p.sent[1] += n
	}
}

// maxDelaySamples bounds the one-way delays kept per client.
const maxDelaySamples = 50000

func (p *peer) onPacket(pk mediaclient.Packet) {
	k := streamKey{pk.Sender, pk.Kind}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.firstMedia.IsZero() {
		p.firstMedia = pk.Arrived
	}
	p.seen[k] = true
	if !p.meas.Load() {
		return
	}
	s := p.streams[k]
	if s == nil {
		s = newStreamStats(pk.Seq)
		p.streams[k] = s
	}
	if !s.add(pk.Seq) {
		return // a retransmission: its delay is not the path's
	}
	// Keep at most maxDelaySamples per client, as a uniform reservoir
	// sample: exact for short runs, bounded memory for long ones.
	d := pk.Arrived.UnixMicro() - pk.Sent.UnixMicro()
	p.delaySeen++
	if len(p.delaysMicro) < maxDelaySamples {
		p.delaysMicro = append(p.delaysMicro, d)
	} else if i := rand.IntN(p.delaySeen); i < maxDelaySamples {
		p.delaysMicro[i] = d
	}
}

// ready reports whether the peer receives every stream it should: each
// other participant's audio and video.
func (p *peer) ready(others int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.seen) >= others*p.cfg.kinds()
}

func (p *peer) close() {
	if p.client != nil {
		p.client.Close()
	}
}

// originOf is the origin of an http(s) base URL (mediaclient checks the
// rest).
func originOf(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("server URL must be http or https, not %q", u.Scheme)
	}
	return u.Scheme + "://" + u.Host, nil
}
