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
	codec   string      // the video codec, once a video track is open
	muxing  bool        // the writer exists: the video codec is fixed

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
	container   webm.Container
	err         error
}

func newPartRec(s *session, participant string, obj uuid.UUID) *partRec {
	return &partRec{s: s, participant: participant, obj: obj, key: objectKey(s.visit, obj),
		path: s.m.spoolPath(obj), queue: make(chan queued, s.m.cfg.QueuePackets),
		muxed: make(chan struct{}), uploaded: make(chan struct{})}
}

// start creates the spool and runs the muxer, which makes the writer at
// the first packet, when the video codec is known.
func (p *partRec) start() error {
	sp, err := spool.Create(p.path, p.s.m.ring)
	if err != nil {
		return err
	}
	p.sp = sp
	go p.mux()
	return nil
}

// openWriter makes the WebM writer for the video codec of the open video
// track (VP8 if none is open yet; a video track opened later in another
// codec is then not recorded).
func (p *partRec) openWriter() error {
	p.mu.Lock()
	p.muxing = true
	codec := p.codec
	p.mu.Unlock()
	w, err := webm.New(p.sp, webm.Config{Audio: true, Video: true, VideoCodec: codec,
		OnKeyframeNeeded: p.requestKeyframe}, p.s.m.log)
	if err != nil {
		return err
	}
	p.w = w
	return nil
}

// recordable tells whether a track's codec can go into this
// participant's object: the store names objects .webm, so only the WebM
// codecs (VP8, VP9, AV1; H264 needs Matroska, see webm.ContainerOf).
func recordable(info sfu.TrackInfo) (kind webm.Kind, codec string, ok bool) {
	codec, ok = webm.CodecOfMime(info.MimeType)
	switch {
	case !ok:
		return 0, "", false
	case info.Kind == "audio" && codec == webm.Opus:
		return webm.Audio, codec, true
	case info.Kind == "video" && codec != webm.Opus && webm.ContainerOf(codec) == webm.WebM:
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
			if p.w == nil {
				if err := p.openWriter(); err != nil {
					p.s.m.log.Error("recording writer failed", "object", p.obj, "err", err)
					p.drain()
					return
				}
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

// drain discards the queue after the writer failed, then closes the spool.
func (p *partRec) drain() {
	for ok := true; ok; {
		select {
		case _, ok = <-p.queue:
		case <-p.s.m.quit:
			return
		}
	}
	if err := p.sp.Close(); err != nil {
		p.s.m.log.Warn("recording close spool", "object", p.obj, "err", err)
	}
}

func (p *partRec) closeFiles() {
	if p.w == nil {
		if err := p.openWriter(); err != nil { // nothing came: an empty file
			p.s.m.log.Warn("recording writer failed", "object", p.obj, "err", err)
			p.drain()
			return
		}
	}
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
	p.res.container = webm.ContainerOf(p.codec)
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
