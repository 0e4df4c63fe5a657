package store

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/minio/minio-go/v7"
)

// Object describes a stored recording.
type Object struct {
	Key         Key
	VersionID   string
	Size        int64
	RetainUntil time.Time
	// SSE is the server-side encryption the store reports
	// ("aws:kms" or "AES256").
	SSE string
	// ContentType is the type the store serves the object with (Stat).
	ContentType string
}

// Put streams r to the object named by key as a multipart upload of
// unknown length (one part buffer of Config.PartSize in memory), typed by
// the key's Format (video/webm or video/x-matroska), encrypted
// server-side and locked until now + RetentionDays. On any error the
// partial upload is aborted; the caller retries from its spool.
func (s *Store) Put(ctx context.Context, key Key, r io.Reader) (Object, error) {
	if err := key.valid(); err != nil {
		return Object{}, err
	}
	until := time.Now().Add(time.Duration(s.cfg.RetentionDays) * 24 * time.Hour).UTC().Truncate(time.Second)
	opts := minio.PutObjectOptions{
		ContentType:          key.Format.ContentType(),
		ServerSideEncryption: s.sse,
		Mode:                 minio.RetentionMode(s.cfg.RetentionMode),
		RetainUntilDate:      until,
		PartSize:             uint64(s.cfg.PartSize),
		NumThreads:           1,
	}
	start := time.Now()
	info, err := s.client.PutObject(ctx, s.cfg.Bucket, key.String(), r, -1, opts)
	if err != nil {
		return Object{}, fmt.Errorf("store: put %s: %w", key, err)
	}
	s.log.InfoContext(ctx, "recording uploaded", "key", key.String(), "bytes", info.Size,
		"version", info.VersionID, "took", time.Since(start).Round(time.Millisecond))
	return Object{Key: key, VersionID: info.VersionID, Size: info.Size, RetainUntil: until}, nil
}

// Stat describes the current version of an object.
func (s *Store) Stat(ctx context.Context, key Key) (Object, error) {
	info, err := s.client.StatObject(ctx, s.cfg.Bucket, key.String(), minio.StatObjectOptions{})
	if err != nil {
		if isNotFound(err) {
			return Object{}, fmt.Errorf("%w: %s", ErrNotFound, key)
		}
		return Object{}, fmt.Errorf("store: stat %s: %w", key, err)
	}
	o := Object{Key: key, VersionID: info.VersionID, Size: info.Size,
		SSE: info.Metadata.Get("X-Amz-Server-Side-Encryption"), ContentType: info.ContentType}
	if t, err := time.Parse(time.RFC3339, info.Metadata.Get("X-Amz-Object-Lock-Retain-Until-Date")); err == nil {
		o.RetainUntil = t
	}
	return o, nil
}

// Get opens the current version of an object for reading (for services
// that stream it themselves; people get presigned URLs). The caller closes
// the reader and writes the audit event first.
func (s *Store) Get(ctx context.Context, key Key) (io.ReadCloser, error) {
	obj, err := s.client.GetObject(ctx, s.cfg.Bucket, key.String(), minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("store: get %s: %w", key, err)
	}
	return obj, nil
}
