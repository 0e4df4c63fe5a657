package recording

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/televisit/televisit/internal/sealbox"
	"github.com/televisit/televisit/recording/store"
	"github.com/televisit/televisit/sfu"
	"github.com/televisit/televisit/visits"
)

// Catalog is what the recorder needs of the visits service: where objects
// and their checksums are recorded, and the consents for the manifest.
type Catalog interface {
	AddRecordingObject(ctx context.Context, a visits.Actor, o visits.RecordingObject) error
	RecordingObjectStored(ctx context.Context, a visits.Actor, id uuid.UUID, size int64, sum []byte) error
	RecordingByID(ctx context.Context, a visits.Actor, id uuid.UUID) (visits.Recording, error)
	UploadingRecordingObjects(ctx context.Context, a visits.Actor) ([]visits.RecordingObject, error)
	StopRecording(ctx context.Context, a visits.Actor, visit uuid.UUID, reason string) (visits.Recording, error)
}

// Store is the object store (store.Store).
type Store interface {
	Putter
	PutManifest(ctx context.Context, key store.Key, body []byte) (store.Object, error)
	// Retaining is an upload target that locks objects in mode for days.
	Retaining(mode string, days int) *store.Retaining
}

// RetentionPolicy gives a clinic's retention (visits.Recordings).
type RetentionPolicy interface {
	RecordingRetention(ctx context.Context, clinic uuid.UUID) (mode string, days int, err error)
}

// Rooms finds a visit's media room (sfu.SFU).
type Rooms interface {
	Room(id string) *sfu.Room
}

// Config configures a Manager.
type Config struct {
	// SpoolDir holds the encrypted spools (required; private to the server).
	SpoolDir string
	// Upload tunes the live uploads.
	Upload UploadConfig
	// FlushEvery is how often a spool is sealed so that a crash keeps the
	// media up to then (default 1 s).
	FlushEvery time.Duration
	// QueuePackets bounds the packets waiting for the muxer per
	// participant (default 2048); beyond it packets are dropped.
	QueuePackets int
}

func (c *Config) setDefaults() {
	if c.FlushEvery == 0 {
		c.FlushEvery = time.Second
	}
	if c.QueuePackets == 0 {
		c.QueuePackets = 2048
	}
}

func (c *Config) validate() error {
	if c.SpoolDir == "" {
		return errors.New("recording: spool dir is required")
	}
	if c.FlushEvery < 10*time.Millisecond || c.QueuePackets < 16 {
		return errors.New("recording: flush interval >= 10ms and queue >= 16 packets")
	}
	return c.Upload.validateSet()
}

func (c UploadConfig) validateSet() error {
	c.setDefaults()
	return c.validate()
}

// system is the actor the recorder writes its audit events as.
var system = visits.SystemActor("recorder")

// Manager runs the recordings of this server: one session per recording,
// one object (WebM, or Matroska for H264) per consenting participant. It
// never decides consent: its caller tells it whom to record after the
// visits service said so.
type Manager struct {
	cfg   Config
	rooms Rooms
	store Store
	cat   Catalog
	ring  *sealbox.Keyring
	log   *slog.Logger

	policy RetentionPolicy // nil: the store's configured retention

	mu       sync.Mutex
	sessions map[uuid.UUID]*session
	wg       sync.WaitGroup // finishing sessions and uploads
	quit     chan struct{}  // closed by abandon (tests: a crash)

	uploads uploadCounters // for Stats
}

// NewManager returns a Manager; call Recover once at start.
func NewManager(cfg Config, rooms Rooms, st Store, cat Catalog, ring *sealbox.Keyring, log *slog.Logger) (*Manager, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if rooms == nil || st == nil || cat == nil || ring == nil || log == nil {
		return nil, errors.New("recording: manager needs rooms, store, catalog, key ring and logger")
	}
	if err := os.MkdirAll(cfg.SpoolDir, 0o700); err != nil {
		return nil, fmt.Errorf("recording: spool dir: %w", err)
	}
	return &Manager{cfg: cfg, rooms: rooms, store: st, cat: cat, ring: ring, log: log,
		sessions: map[uuid.UUID]*session{}, quit: make(chan struct{})}, nil
}

// SetRetentionPolicy makes new recordings' objects take their clinic's
// retention instead of the store's default. Call it before recording.
func (m *Manager) SetRetentionPolicy(p RetentionPolicy) { m.policy = p }

// putter is where a recording of clinic uploads: the store with the
// clinic's retention when a policy is set.
func (m *Manager) putter(ctx context.Context, rec uuid.UUID) (Putter, error) {
	if m.policy == nil {
		return countingPutter{m.store, &m.uploads}, nil
	}
	r, err := m.cat.RecordingByID(ctx, system, rec)
	if err != nil {
		return nil, err
	}
	mode, days, err := m.policy.RecordingRetention(ctx, r.ClinicID)
	if err != nil {
		return nil, err
	}
	return countingPutter{m.store.Retaining(mode, days), &m.uploads}, nil
}

// Record starts recording one participant's tracks in the visit's room
// for a recording: their audio and video from now on (a keyframe is
// requested). Recording a participant twice is a no-op.
func (m *Manager) Record(ctx context.Context, visit, recording uuid.UUID, participant string) error {
	m.mu.Lock()
	s := m.sessions[recording]
	if s == nil {
		s = newSession(m, visit, recording)
		m.sessions[recording] = s
	}
	m.mu.Unlock()
	return s.add(ctx, participant)
}

// Stop ends a recording at once: every participant's tracks stop being
// recorded before Stop returns; the uploads finish and the manifest is
// written in the background (Close waits for them).
func (m *Manager) Stop(ctx context.Context, recording uuid.UUID) {
	m.mu.Lock()
	s := m.sessions[recording]
	delete(m.sessions, recording)
	m.mu.Unlock()
	if s == nil {
		return
	}
	s.stopMedia()
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		s.finish(context.WithoutCancel(ctx))
	}()
}

// Close stops every recording (server shutdown: reason ended in the
// database) and waits for their uploads and manifests.
func (m *Manager) Close() {
	m.mu.Lock()
	live := make([]*session, 0, len(m.sessions))
	for _, s := range m.sessions {
		live = append(live, s)
	}
	m.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, s := range live {
		_, err := m.cat.StopRecording(ctx, system, s.visit, visits.StopEnded)
		if err != nil && !errors.Is(err, visits.ErrNotFound) {
			m.log.ErrorContext(ctx, "stop recording at shutdown", "recording", s.id, "err", err)
		}
		m.Stop(ctx, s.id)
	}
	m.wg.Wait()
}

// Wait waits for the uploads and manifests of stopped recordings.
func (m *Manager) Wait() { m.wg.Wait() }

// background is a context for work that outlives a request: it ends
// only when the manager is abandoned.
func (m *Manager) background(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		select {
		case <-m.quit:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// abandon stops everything as a crash would: spools are left without
// their final chunk and uploads are cut off. For tests of Recover.
func (m *Manager) abandon() {
	close(m.quit)
	m.wg.Wait()
}

// hashingPutter uploads through Put while hashing what was read.
type hashingPutter struct {
	p   Putter
	sum *[]byte
}

func (h hashingPutter) Put(ctx context.Context, key store.Key, r io.Reader) (store.Object, error) {
	hr := newHashReader(r)
	obj, err := h.p.Put(ctx, key, hr)
	if err == nil {
		*h.sum = hr.Sum()
	}
	return obj, err
}
