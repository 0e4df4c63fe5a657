package recording

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/pion/rtp"

	"github.com/televisit/televisit/recording/spool"
	"github.com/televisit/televisit/recording/store"
	"github.com/televisit/televisit/recording/webm"
	"github.com/televisit/televisit/sfu"
)

// partRec records one participant of a recording into one WebM: an
// sfu.Sink that takes only that participant's tracks, a queue, and a muxer
// goroutine writing webm -> spool while UploadSpool follows the spool.
type partRec struct {
	s           *session
	participant string
	obj         uuid.UUID
	key         store.Key
	path        string

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

	uploaded chan struct{}
	res      objectResult
}

type queued struct {
	kind webm.Kind
	pkt  rtp.Packet
	at   time.Time
}

// objectResult is a finished object, for the manifest.
type objectResult struct {
	participant string
	obj         uuid.UUID
	key         store.Key
	size        int64
	sum         []byte
	tracks      []sfu.TrackInfo
	err         error
}

func newPartRec(s *session, participant string, obj uuid.UUID) *partRec {
	return &partRec{s: s, participant: participant, obj: obj, key: objectKey(s.visit, obj),
		path: s.m.spoolPath(obj), queue: make(chan queued, s.m.cfg.QueuePackets),
		muxed: make(chan struct{}), uploaded: make(chan struct{})}
}

// start creates the spool and the WebM writer and runs the muxer.
func (p *partRec) start() error {
	sp, err := spool.Create(p.path, p.s.m.ring)
	if err != nil {
		return err
	}
	w, err := webm.New(sp, webm.Config{Audio: true, Video: true, OnKeyframeNeeded: p.requestKeyframe}, p.s.m.log)
	if err != nil {
		_ = sp.Close()
		return err
	}
	p.sp, p.w = sp, w
	go p.mux()
	return nil
}

// OpenTrack takes the participant's own audio and video.
func (p *partRec) OpenTrack(info sfu.TrackInfo) (sfu.TrackWriter, error) {
	if info.ParticipantID != p.participant {
		return nil, errSkip
	}
	kind := webm.Audio
	switch {
	case info.Kind == "video" && strings.EqualFold(info.MimeType, "video/vp8"):
		kind = webm.Video
	case info.Kind == "audio" && strings.EqualFold(info.MimeType, "audio/opus"):
	default:
		return nil, errSkip
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, t := range p.tracks {
		if t.Kind == info.Kind {
			return nil, errSkip // one audio and one video track (not a screen share)
		}
	}
	p.tracks = append(p.tracks, info)
	if kind == webm.Video {
		p.keyReq = info.RequestKeyframe
	}
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

// mux writes queued packets, seals the spool every FlushEvery and
// completes it when the queue closes.
func (p *partRec) mux() {
	defer close(p.muxed)
	tick := time.NewTicker(p.s.m.cfg.FlushEvery)
	defer tick.Stop()
	for {
		select {
		case q, ok := <-p.queue:
			if !ok {
				p.closeFiles()
				return
			}
			if err := p.w.WriteRTP(q.kind, &q.pkt, q.at); err != nil {
				p.s.m.log.Warn("recording write failed", "object", p.obj, "err", err)
			}
		case <-tick.C:
			_ = p.sp.Flush()
		case <-p.s.m.quit:
			return // a crash: the spool keeps what was flushed
		}
	}
}

func (p *partRec) closeFiles() {
	if err := p.w.Close(); err != nil {
		p.s.m.log.Warn("recording close webm", "object", p.obj, "err", err)
	}
	if err := p.sp.Close(); err != nil {
		p.s.m.log.Warn("recording close spool", "object", p.obj, "err", err)
	}
}

// upload streams the spool to the store while it is written, then
// verifies and records the object.
func (p *partRec) upload(ctx context.Context) {
	defer close(p.uploaded)
	p.res = objectResult{participant: p.participant, obj: p.obj, key: p.key}
	var sum []byte
	m := p.s.m
	cfg := m.cfg.Upload
	cfg.Follow = true
	obj, err := UploadSpool(ctx, hashingPutter{p: p.put, sum: &sum}, m.ring, p.path, p.key, cfg, m.log)
	<-p.muxed
	if err == nil {
		err = m.finalize(ctx, p.obj, p.path, sum, obj.Size)
	}
	p.mu.Lock()
	p.res.tracks = append([]sfu.TrackInfo(nil), p.tracks...)
	p.mu.Unlock()
	p.res.size, p.res.sum, p.res.err = obj.Size, sum, err
}

// result waits for the upload.
func (p *partRec) result(ctx context.Context) objectResult {
	select {
	case <-p.uploaded:
		return p.res
	case <-ctx.Done():
		return objectResult{err: ctx.Err()}
	}
}
