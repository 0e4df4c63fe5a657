package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
)

// Names addresses the store by object name (the Key's String, as a service
// keeps it in its database) and reports refusals and missing objects with
// the caller's own errors, so that a consumer declares its interface
// without importing this package or minio-go. visits.RecordingObjects is
// one such interface: store.Names(visits.ErrRecordingRetained,
// visits.ErrNotFound).
type Names struct {
	s                  *Store
	retained, notFound error
}

// Names returns name-based access; errors wrap retained when the store
// refuses a deletion under retention and notFound for a missing object
// (as well as ErrRetained and ErrNotFound).
func (s *Store) Names(retained, notFound error) *Names {
	return &Names{s: s, retained: retained, notFound: notFound}
}

// validName accepts names under "recordings/" without path tricks.
func validName(name string) error {
	if !strings.HasPrefix(name, "recordings/") || len(name) > 512 || strings.Contains(name, "..") ||
		strings.ContainsAny(name, "\\\x00\r\n") {
		return fmt.Errorf("%w: want a name under recordings/", ErrKey)
	}
	return nil
}

// PresignGet returns a URL that downloads the object for ttl (at most
// MaxPresignTTL). The caller has written its audit event.
func (n *Names) PresignGet(ctx context.Context, name string, ttl time.Duration) (string, error) {
	if ttl <= 0 || ttl > MaxPresignTTL {
		return "", fmt.Errorf("%w: %s is not in (0, %s]", ErrTTL, ttl, MaxPresignTTL)
	}
	if err := validName(name); err != nil {
		return "", err
	}
	u, err := n.s.client.PresignedGetObject(ctx, n.s.cfg.Bucket, name, ttl, url.Values{})
	if err != nil {
		return "", fmt.Errorf("store: presign %s: %w", name, err)
	}
	return u.String(), nil
}

// Delete removes every version of the object; the store refuses while it
// is under retention.
func (n *Names) Delete(ctx context.Context, name string) error {
	if err := validName(name); err != nil {
		return err
	}
	return n.mapErr(n.s.deleteName(ctx, name))
}

// RetainUntil is the retain-until date of the object's current version
// (zero when it has none).
func (n *Names) RetainUntil(ctx context.Context, name string) (time.Time, error) {
	if err := validName(name); err != nil {
		return time.Time{}, err
	}
	_, until, err := n.s.client.GetObjectRetention(ctx, n.s.cfg.Bucket, name, "")
	switch {
	case err == nil && until != nil:
		return until.UTC(), nil
	case err == nil:
		return time.Time{}, nil
	case isNotFound(err):
		return time.Time{}, n.mapErr(fmt.Errorf("%w: %s", ErrNotFound, name))
	case minio.ToErrorResponse(err).Code == "NoSuchObjectLockConfiguration":
		return time.Time{}, nil
	}
	return time.Time{}, fmt.Errorf("store: retention of %s: %w", name, err)
}

func (n *Names) mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case n.retained != nil && errors.Is(err, ErrRetained):
		return fmt.Errorf("%w: %w", n.retained, err)
	case n.notFound != nil && errors.Is(err, ErrNotFound):
		return fmt.Errorf("%w: %w", n.notFound, err)
	}
	return err
}
