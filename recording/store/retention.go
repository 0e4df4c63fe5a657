package store

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/minio/minio-go/v7"
)

// Retaining is Put with a retention other than the Config's: for per-clinic
// policies (visits' Recordings.RecordingRetention gives mode and days).
// Its Put has the signature of Store.Put, so it serves as an upload target.
type Retaining struct {
	s    *Store
	mode string
	days int
}

// Retaining returns an upload target that locks each object in mode
// (Governance or Compliance) for days after its upload.
func (s *Store) Retaining(mode string, days int) *Retaining {
	return &Retaining{s: s, mode: mode, days: days}
}

// Put is Store.Put with the Retaining's mode and days.
func (p *Retaining) Put(ctx context.Context, key Key, r io.Reader) (Object, error) {
	if p.days < 1 || p.days > 36500 {
		return Object{}, fmt.Errorf("%w: retention days must be 1-36500", ErrConfig)
	}
	return p.s.PutRetained(ctx, key, r, p.mode, time.Now().Add(time.Duration(p.days)*24*time.Hour))
}

// PutRetained is Put with the object's own retention: locked in mode
// (Governance or Compliance) until until, which must be in the future
// (per-clinic policies; the store refuses a date in the past).
func (s *Store) PutRetained(ctx context.Context, key Key, r io.Reader, mode string, until time.Time) (Object, error) {
	if mode != Governance && mode != Compliance {
		return Object{}, fmt.Errorf("%w: retention mode must be %s or %s", ErrConfig, Governance, Compliance)
	}
	if err := key.valid(); err != nil {
		return Object{}, err
	}
	until = until.UTC().Truncate(time.Second)
	opts := minio.PutObjectOptions{
		ContentType:          key.Format.ContentType(),
		ServerSideEncryption: s.sse,
		Mode:                 minio.RetentionMode(mode),
		RetainUntilDate:      until,
		PartSize:             uint64(s.cfg.PartSize),
		NumThreads:           1,
	}
	info, err := s.client.PutObject(ctx, s.cfg.Bucket, key.String(), r, -1, opts)
	if err != nil {
		return Object{}, fmt.Errorf("store: put %s: %w", key, err)
	}
	s.log.InfoContext(ctx, "recording uploaded", "key", key.String(), "bytes", info.Size, "version", info.VersionID)
	return Object{Key: key, VersionID: info.VersionID, Size: info.Size, RetainUntil: until}, nil
}
