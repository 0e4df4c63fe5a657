package sfu

import (
	"errors"
	"fmt"
	"sync"

	"github.com/pion/rtp"
)

// TrackInfo describes a published track to a Sink.
type TrackInfo struct {
	ParticipantID string // publisher
	TrackID       string
	StreamID      string
	Kind          string // "audio" or "video"
	MimeType      string // e.g. "video/VP8"
	ClockRate     uint32
	Channels      uint16
	SDPFmtpLine   string
	PayloadType   uint8 // carried in the headers the TrackWriter receives
	// RequestKeyframe asks the publisher for a keyframe of the layer the
	// sink receives (a PLI, rate-limited like any subscriber's); it
	// reports whether one was sent. Set for sinks; safe to call from any
	// goroutine, also after Close (then it does nothing useful).
	RequestKeyframe func() bool `json:"-"`
}

// Sink receives a room's media without a PeerConnection. The recorder
// attaches through it (Room.AttachSink), like a participant that only
// subscribes; whether it may attach (consent) is decided by its caller.
type Sink interface {
	// OpenTrack is called once for every track published in the room,
	// including those already published when the sink attaches. It
	// returns the track's writer, or an error to skip the track. It is
	// called with no SFU lock held.
	OpenTrack(info TrackInfo) (TrackWriter, error)
}

// TrackWriter receives one track as one continuous RTP stream (for
// simulcast, the best layer, switched on keyframes; the first packet is a
// keyframe). WriteRTP runs on the publisher's forwarding goroutine: it must
// copy what it keeps and never block. Close is called once, when the track
// ends or the sink is detached; no WriteRTP follows it.
type TrackWriter interface {
	WriteRTP(header *rtp.Header, payload []byte) (int, error)
	Close() error
}

// subscriber is what a publication is offered to: a Participant or a sink.
type subscriber interface {
	subscribe(pub *publication)
	unsubscribe(pub *publication)
}

// sinkSub is an attached Sink: one downTrack per publication.
type sinkSub struct {
	id   string
	sink Sink
	now  func() int64

	mu     sync.Mutex
	tracks map[*publication]*sinkTrack
	closed bool
}

type sinkTrack struct {
	dt *downTrack
	w  *guardedWriter
}

// guardedWriter makes Close final: no WriteRTP reaches the sink after it.
// Its mutex is per track and held while calling the sink's WriteRTP, which
// must not block.
type guardedWriter struct {
	mu     sync.Mutex
	w      TrackWriter
	closed bool
}

func (g *guardedWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return 0, ErrClosed
	}
	n, err := g.w.WriteRTP(h, payload)
	if err == nil && n == 0 {
		// A sink has no DTLS to wait for: (0, nil) must not read as
		// Pion's "dropped before the connection is up", which restarts
		// the stream (and its timestamps) at the next keyframe.
		n = h.MarshalSize() + len(payload)
	}
	return n, err
}

func (g *guardedWriter) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil
	}
	g.closed = true
	return g.w.Close()
}

func trackInfo(pub *publication) TrackInfo {
	return TrackInfo{
		ParticipantID: pub.owner, TrackID: pub.id, StreamID: pub.streamID, Kind: pub.kind.String(),
		MimeType: pub.codec.MimeType, ClockRate: pub.codec.ClockRate, Channels: pub.codec.Channels,
		SDPFmtpLine: pub.codec.SDPFmtpLine, PayloadType: pub.payloadType,
	}
}

func (k *sinkSub) subscribe(pub *publication) {
	k.mu.Lock()
	skip := k.closed || k.tracks[pub] != nil
	k.mu.Unlock()
	if skip {
		return
	}
	dt := newDownTrack(pub, pub.codec.ClockRate)
	info := trackInfo(pub)
	info.RequestKeyframe = func() bool { return dt.requestKeyframe(k.now()) }
	w, err := k.sink.OpenTrack(info) // no lock held: calling out
	if err != nil || w == nil {
		return
	}
	gw := &guardedWriter{w: w}
	k.mu.Lock()
	if k.closed || k.tracks[pub] != nil { // lost a race with detach or a twin
		k.mu.Unlock()
		_ = gw.Close()
		return
	}
	dt.bind(gw, pub.layers[0].ssrc.Load(), pub.payloadType, 0)
	k.tracks[pub] = &sinkTrack{dt: dt, w: gw}
	k.mu.Unlock()
	pub.addSub(dt)
	if pub.closed.Load() { // dropped while we subscribed
		k.unsubscribe(pub)
	}
}

func (k *sinkSub) unsubscribe(pub *publication) {
	k.mu.Lock()
	st := k.tracks[pub]
	delete(k.tracks, pub)
	k.mu.Unlock()
	if st != nil {
		pub.removeSub(st.dt)
		_ = st.w.Close()
	}
}

// close detaches from every publication and closes the writers.
func (k *sinkSub) close() {
	k.mu.Lock()
	k.closed = true
	tracks := k.tracks
	k.tracks = map[*publication]*sinkTrack{}
	k.mu.Unlock()
	for pub, st := range tracks {
		pub.removeSub(st.dt)
		_ = st.w.Close()
	}
}

// ErrDuplicateSink is returned by AttachSink for an ID already attached.
var ErrDuplicateSink = errors.New("sfu: sink already attached")

// AttachSink attaches s to the room under id: it receives every track
// published now or later until detach is called or the room closes.
// Sinks do not count towards MaxParticipants.
func (r *Room) AttachSink(id string, s Sink) (detach func(), err error) {
	if s == nil {
		return nil, fmt.Errorf("sfu: attach sink: %w: nil sink", ErrInvalidConfig)
	}
	k := &sinkSub{id: id, sink: s, now: r.sfu.now, tracks: map[*publication]*sinkTrack{}}
	r.mu.Lock()
	switch {
	case r.retired:
		r.mu.Unlock()
		return r.sfu.Room(r.id).AttachSink(id, s)
	case r.closed:
		r.mu.Unlock()
		return nil, ErrClosed
	case r.sinks[id] != nil:
		r.mu.Unlock()
		return nil, ErrDuplicateSink
	}
	r.sinks[id] = k
	pubs := make([]*publication, 0, len(r.pubs))
	for pub := range r.pubs {
		pubs = append(pubs, pub)
	}
	r.mu.Unlock()
	for _, pub := range pubs {
		k.subscribe(pub)
	}
	var once sync.Once
	return func() { once.Do(func() { r.detachSink(k) }) }, nil
}

func (r *Room) detachSink(k *sinkSub) {
	r.mu.Lock()
	if r.sinks[k.id] == k {
		delete(r.sinks, k.id)
	}
	r.mu.Unlock()
	k.close()
	r.sfu.reapIfEmpty(r)
}
