package recording

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/pion/rtp"

	"github.com/televisit/televisit/recording/spool"
	"github.com/televisit/televisit/recording/store"
	"github.com/televisit/televisit/recording/webm"
	"github.com/televisit/televisit/sfu"
)

// partRec records one participant of a recording into one WebM (or
// Matroska, for H264): an sfu.Sink that takes only that participant's
// tracks, a queue, and a muxer goroutine writing webm -> spool while
// UploadSpool follows the spool.
type partRec struct {
	s           *session
	participant string
	obj         uuid.UUID
	path        string

	ctx   context.Context // background: ends when the manager is abandoned
	put   Putter
	sp    *spool.Writer
	w     *webm.Writer
	queue chan queued
	muxed chan struct{} // closed when the spool is complete

	mu      sync.Mutex
	closed  bool
	dropped int
	tracks  []sfu.TrackInfo
	detach  func()
	keyReq  func() bool // the video track's keyframe request, once open
	codec   string      // the video codec, once a video track is open
	muxing  bool        // the writer exists: the video codec is fixed

	// Set by begin (the muxer) at the first packet, before ready closes;
	// read by the upload after ready or muxed.
	key       store.Key
	container webm.Container
	startErr  error         // the object could not be recorded in the database
	ready     chan struct{} // closed by begin: the upload may start

	uploaded chan struct{}
	res      objectResult
}

type queued struct {
	kind webm.Kind
	pkt  rtp.Packet
	at   time.Time
}

func newPartRec(s *session, participant string, obj uuid.UUID) *partRec {
	return &partRec{s: s, participant: participant, obj: obj, ctx: context.Background(),
		path: s.m.spoolPath(obj), queue: make(chan queued, s.m.cfg.QueuePackets),
		muxed: make(chan struct{}), ready: make(chan struct{}), uploaded: make(chan struct{})}
}

// start creates the spool and runs the muxer, which begins the object and
// makes the writer at the first packet, when the video codec is known.
func (p *partRec) start() error {
	sp, err := spool.Create(p.path, p.s.m.ring)
	if err != nil {
		return err
	}
	p.sp = sp
	go p.mux()
	return nil
}

// recordable tells whether a track's codec can go into this
// participant's object: Opus audio and the video codecs recording/webm
// writes (VP8, VP9 and AV1 in WebM, H264 in Matroska).
func recordable(info sfu.TrackInfo) (kind webm.Kind, codec string, ok bool) {
	codec, ok = webm.CodecOfMime(info.MimeType)
	switch {
	case !ok:
		return 0, "", false
	case info.Kind == "audio" && codec == webm.Opus:
		return webm.Audio, codec, true
	case info.Kind == "video" && codec != webm.Opus:
		return webm.Video, codec, true
	}
	return 0, "", false
}

// OpenTrack takes the participant's own audio and video.
func (p *partRec) OpenTrack(info sfu.TrackInfo) (sfu.TrackWriter, error) {
	if info.ParticipantID != p.participant {
		return nil, errSkip
	}
	kind, codec, ok := recordable(info)
	if !ok {
		return nil, errSkip
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, t := range p.tracks {
		if t.Kind == info.Kind {
			return nil, errSkip // one audio and one video track (not a screen share)
		}
	}
	if kind == webm.Video {
		if p.muxing && codec != p.codec && !(p.codec == "" && codec == webm.VP8) {
			return nil, errSkip // the writer was made for another codec
		}
		p.keyReq, p.codec = info.RequestKeyframe, codec
	}
	p.tracks = append(p.tracks, info)
	return &trackTap{p: p, kind: kind}, nil
}

// requestKeyframe asks the SFU for a video keyframe (the muxer lost a
// frame or is starting, or the queue overflowed). Rate-limited by the SFU.
func (p *partRec) requestKeyframe() {
	p.mu.Lock()
	req := p.keyReq
	p.mu.Unlock()
	if req != nil {
		req()
	}
}

// trackTap queues one track's packets without blocking the SFU.
type trackTap struct {
	p    *partRec
	kind webm.Kind
}

func (t *trackTap) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	if len(payload) == 0 {
		return 0, nil // padding only: no media
	}
	q := queued{kind: t.kind, at: time.Now(), pkt: rtp.Packet{Header: *h, Payload: append([]byte(nil), payload...)}}
	q.pkt.Header.Extensions = nil
	p := t.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 0, errStopped
	}
	select {
	case p.queue <- q:
	default:
		p.dropped++ // the muxer fell behind: it will ask for a keyframe
	}
	return len(payload), nil
}

func (t *trackTap) Close() error { return nil }

func (p *partRec) setDetach(d func()) {
	p.mu.Lock()
	closed := p.closed
	p.detach = d
	p.mu.Unlock()
	if closed {
		d()
	}
}

// stop ends the participant's recording: no packet is queued after it.
func (p *partRec) stop() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	close(p.queue)
	d := p.detach
	p.mu.Unlock()
	if d != nil {
		d()
	}
}
