package store

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/minio/minio-go/v7"
)

// ManifestName is the object name of a recording's manifest:
// "recordings/<visit uuid>/<recording uuid>.manifest.json".
func (k Key) ManifestName() string {
	return "recordings/" + k.Visit.String() + "/" + k.Recording.String() + ".manifest.json"
}

// PutManifest stores a recording's JSON manifest under key.ManifestName(),
// encrypted and retained like the media objects.
func (s *Store) PutManifest(ctx context.Context, key Key, body []byte) (Object, error) {
	if err := key.valid(); err != nil {
		return Object{}, err
	}
	until := time.Now().Add(time.Duration(s.cfg.RetentionDays) * 24 * time.Hour).UTC().Truncate(time.Second)
	info, err := s.client.PutObject(ctx, s.cfg.Bucket, key.ManifestName(), bytes.NewReader(body), int64(len(body)),
		minio.PutObjectOptions{ContentType: "application/json", ServerSideEncryption: s.sse,
			Mode: minio.RetentionMode(s.cfg.RetentionMode), RetainUntilDate: until})
	if err != nil {
		return Object{}, fmt.Errorf("store: put manifest %s: %w", key.ManifestName(), err)
	}
	return Object{Key: key, VersionID: info.VersionID, Size: info.Size, RetainUntil: until}, nil
}

// GetManifest reads a recording's manifest.
func (s *Store) GetManifest(ctx context.Context, key Key) ([]byte, error) {
	obj, err := s.client.GetObject(ctx, s.cfg.Bucket, key.ManifestName(), minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("store: get manifest: %w", err)
	}
	defer obj.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(obj); err != nil {
		return nil, fmt.Errorf("store: read manifest: %w", err)
	}
	return b.Bytes(), nil
}
