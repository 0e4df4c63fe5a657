package visits

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Access to recordings: listing a visit's recordings, playback links,
// release of information and the retention sweeper. Media never passes
// through this package: a link is a presigned URL of the object store,
// valid at most MaxRecordingLinkTTL, and it is made only after the audit
// event of the view (or release) has committed. The object store is
// reached through RecordingObjects, which recording/store implements.

// MaxRecordingLinkTTL is the longest a playback or release link may live.
const MaxRecordingLinkTTL = 5 * time.Minute

// RecordingObjects is what access needs of the object store. Keys are
// object names as stored in recording_objects.object_key.
type RecordingObjects interface {
	// PresignGet returns a URL that downloads the object for ttl.
	PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error)
	// Delete removes every version of the object; ErrRecordingRetained when
	// the store refuses because the object is under retention.
	Delete(ctx context.Context, key string) error
	// RetainUntil is the object's retain-until date (zero when unlocked).
	RetainUntil(ctx context.Context, key string) (time.Time, error)
}

// Errors of recording access.
var (
	// ErrRecordingRetained: the store refused to delete an object under
	// retention.
	ErrRecordingRetained = errors.New("recording object under retention")
	// ErrRecordingUnavailable: no object store is configured.
	ErrRecordingUnavailable = errors.New("recording storage unavailable")
)

// RecordingsConfig configures recording access. Zero values take defaults.
type RecordingsConfig struct {
	// DefaultRetentionMode and DefaultRetentionDays apply to clinics
	// without a policy of their own. Defaults GOVERNANCE and 2190 (six
	// years).
	DefaultRetentionMode string
	DefaultRetentionDays int
	// LinkTTL is how long a playback or release link lives (at most and by
	// default MaxRecordingLinkTTL).
	LinkTTL time.Duration
}

func (c *RecordingsConfig) validate() error {
	if c.DefaultRetentionMode == "" {
		c.DefaultRetentionMode = defaultRetentionMode
	}
	if c.DefaultRetentionDays == 0 {
		c.DefaultRetentionDays = defaultRetentionDays
	}
	if c.LinkTTL == 0 {
		c.LinkTTL = MaxRecordingLinkTTL
	}
	if err := (RecordingRetentionSettings{Mode: c.DefaultRetentionMode, Days: c.DefaultRetentionDays}).validate(); err != nil {
		return fmt.Errorf("visits: recording retention default: %w", err)
	}
	if c.LinkTTL < time.Second || c.LinkTTL > MaxRecordingLinkTTL {
		return fmt.Errorf("visits: recording LinkTTL must be 1s-%s", MaxRecordingLinkTTL)
	}
	return nil
}

// Recordings is recording access on top of the visits service.
type Recordings struct {
	cfg     RecordingsConfig
	svc     *Service
	objects RecordingObjects // nil: no object store; links are unavailable
}

// NewRecordings returns recording access for svc. objects may be nil when
// recording is not configured: retention policies still work, links and
// the sweeper do not.
func NewRecordings(cfg RecordingsConfig, svc *Service, objects RecordingObjects) (*Recordings, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if svc == nil {
		return nil, errors.New("visits: recordings need the service")
	}
	return &Recordings{cfg: cfg, svc: svc, objects: objects}, nil
}

// RecordingLink is a presigned URL and when it stops working.
type RecordingLink struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// presign makes a link for key; the caller has committed the audit event.
func (r *Recordings) presign(ctx context.Context, key string) (RecordingLink, error) {
	if r.objects == nil {
		return RecordingLink{}, ErrRecordingUnavailable
	}
	expires := r.svc.now().Add(r.cfg.LinkTTL).UTC().Truncate(time.Second)
	u, err := r.objects.PresignGet(ctx, key, r.cfg.LinkTTL)
	if err != nil {
		return RecordingLink{}, fmt.Errorf("visits: presign recording object: %w", err)
	}
	return RecordingLink{URL: u, ExpiresAt: expires}, nil
}

// recordingRow is what access needs of a recording and its visit.
type recordingRow struct {
	id, visit, clinic uuid.UUID
	clinician         *uuid.UUID
}

func (r *Recordings) loadRecording(ctx context.Context, q recQuerier, id uuid.UUID) (recordingRow, error) {
	row := recordingRow{id: id}
	err := q.QueryRow(ctx, `SELECT r.visit_id, v.clinic_id, v.clinician_id
		FROM recordings r JOIN visits v ON v.id = r.visit_id WHERE r.id = $1`, id).
		Scan(&row.visit, &row.clinic, &row.clinician)
	if err != nil {
		return row, recNotFound(err, "read recording")
	}
	return row, nil
}

// recQuerier is a transaction or a pool.
type recQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// recNotFound maps no rows to ErrNotFound and names the step otherwise.
func recNotFound(err error, step string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	return fmt.Errorf("%s: %w", step, err)
}
