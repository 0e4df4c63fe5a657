package store

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/minio/minio-go/v7"
)

// MaxPresignTTL is the longest a playback or release-of-information link
// may live.
const MaxPresignTTL = 5 * time.Minute

// PresignGet returns a URL that downloads the object for ttl (at most
// MaxPresignTTL). Write the audit event before calling it: the URL is the
// access.
func (s *Store) PresignGet(ctx context.Context, key Key, ttl time.Duration) (*url.URL, error) {
	if ttl <= 0 || ttl > MaxPresignTTL {
		return nil, fmt.Errorf("%w: %s is not in (0, %s]", ErrTTL, ttl, MaxPresignTTL)
	}
	if err := key.valid(); err != nil {
		return nil, err
	}
	u, err := s.client.PresignedGetObject(ctx, s.cfg.Bucket, key.String(), ttl, url.Values{})
	if err != nil {
		return nil, fmt.Errorf("store: presign %s: %w", key, err)
	}
	return u, nil
}

// Delete removes every version of the object. While a version is under
// retention the store itself refuses, and Delete returns ErrRetained
// (versions deleted before the refusal stay deleted; with object lock all
// versions of a recording share its retention, so in practice none is).
func (s *Store) Delete(ctx context.Context, key Key) error {
	if err := key.valid(); err != nil {
		return err
	}
	return s.deleteName(ctx, key.String())
}

// deleteName deletes every version of the object called name.
func (s *Store) deleteName(ctx context.Context, name string) error {
	found := false
	opts := minio.ListObjectsOptions{Prefix: name, WithVersions: true}
	for v := range s.client.ListObjects(ctx, s.cfg.Bucket, opts) {
		if v.Err != nil {
			return fmt.Errorf("store: list versions of %s: %w", name, v.Err)
		}
		if v.Key != name {
			continue
		}
		found = true
		if err := s.deleteVersion(ctx, name, v.VersionID); err != nil {
			return err
		}
	}
	if !found {
		return fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	return nil
}

func (s *Store) deleteVersion(ctx context.Context, name, version string) error {
	err := s.client.RemoveObject(ctx, s.cfg.Bucket, name, minio.RemoveObjectOptions{VersionID: version})
	if err == nil {
		s.log.InfoContext(ctx, "recording version deleted", "key", name, "version", version)
		return nil
	}
	// AWS refuses with 403 AccessDenied, MinIO with 400 InvalidRequest
	// ("Object is WORM protected"): ask the store whether the version is
	// locked rather than trusting either wording.
	if status := minio.ToErrorResponse(err).StatusCode; (status == 400 || status == 403) && s.retained(ctx, name, version) {
		return fmt.Errorf("%w: %s version %s", ErrRetained, name, version)
	}
	return fmt.Errorf("store: delete %s version %s: %w", name, version, err)
}

// retained reports whether a version is locked now (retention in the
// future or a legal hold), to tell a retention refusal from other denials.
func (s *Store) retained(ctx context.Context, name, version string) bool {
	_, until, err := s.client.GetObjectRetention(ctx, s.cfg.Bucket, name, version)
	if err == nil && until != nil && until.After(time.Now()) {
		return true
	}
	hold, err := s.client.GetObjectLegalHold(ctx, s.cfg.Bucket, name,
		minio.GetObjectLegalHoldOptions{VersionID: version})
	return err == nil && hold != nil && *hold == minio.LegalHoldEnabled
}
