package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/televisit/televisit/internal/config"
	"github.com/televisit/televisit/internal/sealbox"
	"github.com/televisit/televisit/recording"
	"github.com/televisit/televisit/recording/store"
	"github.com/televisit/televisit/sfu"
	"github.com/televisit/televisit/visits"
)

// buildRecorder opens the object store and starts the recorder, then
// uploads in the background what a crash left in the spool. It returns nil
// when recording is not configured (also in dev: there is no fake S3).
func buildRecorder(ctx context.Context, c config.Recording, keys *sealbox.Keyring, media *sfu.SFU,
	svc *visits.Service, log *slog.Logger) (*recording.Manager, error) {
	if !c.Enabled() {
		log.Info("recording is off: no recording.endpoint configured")
		return nil, nil
	}
	c = c.WithDefaults()
	ring := keys
	if c.SpoolKey != "" {
		var err error
		if ring, err = sealbox.ParseKeyring(c.SpoolKey.Value()); err != nil {
			return nil, fmt.Errorf("recording.spool_key: %w", err)
		}
	}
	st, err := store.Open(ctx, store.Config{Endpoint: c.Endpoint, Region: c.Region, Bucket: c.Bucket,
		AccessKey: c.AccessKey.Value(), SecretKey: c.SecretKey.Value(), CAFile: c.CAFile, SSE: c.SSE, KMSKeyID: c.KMSKeyID,
		RetentionMode: c.RetentionMode, RetentionDays: c.RetentionDays, PartSize: int64(c.PartSizeMiB) << 20}, log)
	if err != nil {
		return nil, fmt.Errorf("recording store: %w", err)
	}
	m, err := recording.NewManager(recording.Config{SpoolDir: c.SpoolDir}, media, st, svc, ring, log)
	if err != nil {
		return nil, err
	}
	// Each clinic's retention policy (admins set it; the configured
	// retention is the default of clinics without one).
	policy, err := visits.NewRecordings(visits.RecordingsConfig{DefaultRetentionMode: c.RetentionMode,
		DefaultRetentionDays: c.RetentionDays}, svc, nil)
	if err != nil {
		return nil, err
	}
	m.SetRetentionPolicy(policy)
	go func() {
		n, err := m.Recover(context.WithoutCancel(ctx))
		if err != nil {
			log.Error("recording crash recovery failed", "err", err)
			return
		}
		if n > 0 {
			log.Info("recording crash recovery uploaded spools", "objects", n)
		}
	}()
	return m, nil
}
