package recording

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/google/uuid"

	"github.com/televisit/televisit/recording/store"
	"github.com/televisit/televisit/recording/webm"
)

// session is one recording: the participants being recorded.
type session struct {
	m         *Manager
	visit, id uuid.UUID

	mu      sync.Mutex
	parts   map[string]*partRec
	stopped bool
	put     Putter // resolved with the first participant
}

func newSession(m *Manager, visit, id uuid.UUID) *session {
	return &session{m: m, visit: visit, id: id, parts: map[string]*partRec{}}
}

// add starts recording a participant: a spool, the muxer, the live upload
// and the sink in the room. The object's database row and name wait for
// the muxer's first packet (partRec.begin), when the video codec, and so
// the container (.webm or .mkv), is known.
func (s *session) add(ctx context.Context, participant string) error {
	s.mu.Lock()
	if s.stopped || s.parts[participant] != nil {
		s.mu.Unlock()
		return nil
	}
	obj := uuid.New()
	p := newPartRec(s, participant, obj)
	s.parts[participant] = p
	put := s.put
	s.mu.Unlock()
	var err error
	if put == nil {
		if put, err = s.m.putter(ctx, s.id); err != nil {
			s.forget(participant)
			return fmt.Errorf("recording: retention: %w", err)
		}
		s.mu.Lock()
		s.put = put
		s.mu.Unlock()
	}
	p.put = put
	bctx, cancel := s.m.background(ctx)
	p.ctx = bctx
	if err := p.start(); err != nil {
		cancel()
		s.forget(participant)
		return fmt.Errorf("recording: start %s: %w", obj, err)
	}
	s.m.wg.Add(1)
	go func() {
		defer s.m.wg.Done()
		defer cancel()
		p.upload(bctx)
	}()
	return s.attach(p)
}

func (s *session) forget(participant string) {
	s.mu.Lock()
	delete(s.parts, participant)
	s.mu.Unlock()
}

func (s *session) attach(p *partRec) error {
	detach, err := s.m.rooms.Room(s.visit.String()).AttachSink("recorder:"+s.id.String()+":"+p.participant, p)
	if err != nil {
		p.stop()
		return fmt.Errorf("recording: attach: %w", err)
	}
	p.setDetach(detach)
	return nil
}

// stopMedia detaches every participant and closes their files.
func (s *session) stopMedia() {
	s.mu.Lock()
	s.stopped = true
	parts := make([]*partRec, 0, len(s.parts))
	for _, p := range s.parts {
		parts = append(parts, p)
	}
	s.mu.Unlock()
	for _, p := range parts {
		p.stop()
	}
}

// finish waits for each upload, checks and records its checksum, then
// writes the manifest.
func (s *session) finish(ctx context.Context) {
	s.mu.Lock()
	parts := make([]*partRec, 0, len(s.parts))
	for _, p := range s.parts {
		parts = append(parts, p)
	}
	s.mu.Unlock()
	var objs []objectResult
	for _, p := range parts {
		r := p.result(ctx)
		if r.err != nil {
			s.m.log.ErrorContext(ctx, "recording object failed", "recording", s.id, "object", p.obj, "err", r.err)
			continue
		}
		objs = append(objs, r)
	}
	if err := s.writeManifest(ctx, objs); err != nil {
		s.m.log.ErrorContext(ctx, "recording manifest failed", "recording", s.id, "err", err)
	}
}

// finalize verifies an uploaded object against its spool and records it.
func (m *Manager) finalize(ctx context.Context, obj uuid.UUID, path string, uploaded []byte, size int64) error {
	sum, n, err := spoolDigest(path, m.ring)
	if err != nil {
		return err
	}
	if n != size || string(sum) != string(uploaded) {
		return errors.New("recording: uploaded object does not match its spool")
	}
	if err := m.cat.RecordingObjectStored(ctx, system, obj, size, sum); err != nil {
		return fmt.Errorf("recording: note stored object: %w", err)
	}
	return nil
}

func (m *Manager) spoolPath(obj uuid.UUID) string {
	return filepath.Join(m.cfg.SpoolDir, obj.String()+".spool")
}

// objectKey names a participant's object in its container's format.
func objectKey(visit, obj uuid.UUID, c webm.Container) store.Key {
	k := store.Key{Visit: visit, Recording: obj}
	if c == webm.Matroska {
		k.Format = store.Matroska
	}
	return k
}
