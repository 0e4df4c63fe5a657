package recording

import (
	"context"
	"os"
	"time"

	"github.com/google/uuid"

	"github.com/televisit/televisit/recording/store"
	"github.com/televisit/televisit/recording/webm"
	"github.com/televisit/televisit/sfu"
	"github.com/televisit/televisit/visits"
)

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

// begin fixes the video codec: that of the open video track (VP8 if none
// is open yet; a video track opened later in another codec is then not
// recorded). The codec's container names the object (.webm, or .mkv for
// H264), which is recorded in the database, so that Recover finds it,
// before any media reaches the spool; then the upload may start.
func (p *partRec) begin() (codec string, err error) {
	p.mu.Lock()
	p.muxing = true
	codec = p.codec
	p.mu.Unlock()
	p.container = webm.ContainerOf(codec)
	p.key = objectKey(p.s.visit, p.obj, p.container)
	ctx, cancel := context.WithTimeout(p.ctx, beginTimeout)
	defer cancel()
	p.startErr = p.s.m.cat.AddRecordingObject(ctx, system, visits.RecordingObject{ID: p.obj, RecordingID: p.s.id,
		ParticipantID: p.participant, Key: p.key.String(), SpoolPath: p.path})
	close(p.ready)
	return codec, p.startErr
}

// beginTimeout bounds the database write of begin (packets queue meanwhile).
const beginTimeout = 15 * time.Second

// open begins the object and makes its writer. When the object cannot be
// recorded in the database the queue is discarded and the spool removed:
// nothing names it, so Recover would never upload it.
func (p *partRec) open() bool {
	codec, err := p.begin()
	if err != nil {
		p.s.m.log.Error("recording object not started", "object", p.obj, "err", err)
		p.drain()
		if err := os.Remove(p.path); err != nil {
			p.s.m.log.Warn("recording remove spool", "object", p.obj, "err", err)
		}
		return false
	}
	if err := p.openWriter(codec); err != nil {
		p.s.m.log.Error("recording writer failed", "object", p.obj, "err", err)
		p.drain()
		return false
	}
	return true
}

// openWriter makes the writer (WebM or Matroska) for the video codec.
func (p *partRec) openWriter(codec string) error {
	w, err := webm.New(p.sp, webm.Config{Audio: true, Video: true, VideoCodec: codec,
		OnKeyframeNeeded: p.requestKeyframe}, p.s.m.log)
	if err != nil {
		return err
	}
	p.w = w
	return nil
}

// upload streams the spool to the store while it is written, once begin
// named the object, then verifies and records the object.
func (p *partRec) upload(ctx context.Context) {
	defer close(p.uploaded)
	var err error
	select {
	case <-p.ready:
		err = p.startErr
	case <-ctx.Done():
		err = ctx.Err()
	}
	var (
		sum []byte
		obj store.Object
	)
	m := p.s.m
	if err == nil {
		cfg := m.cfg.Upload
		cfg.Follow = true
		obj, err = UploadSpool(ctx, hashingPutter{p: p.put, sum: &sum}, m.ring, p.path, p.key, cfg, m.log)
	}
	<-p.muxed
	if err == nil {
		err = m.finalize(ctx, p.obj, p.path, sum, obj.Size)
	}
	p.mu.Lock()
	tracks := append([]sfu.TrackInfo(nil), p.tracks...)
	p.mu.Unlock()
	p.res = objectResult{participant: p.participant, obj: p.obj, key: p.key, container: p.container,
		tracks: tracks, size: obj.Size, sum: sum, err: err}
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
