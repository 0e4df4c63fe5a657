package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/televisit/televisit/internal/config"
	"github.com/televisit/televisit/recording/store"
	"github.com/televisit/televisit/visits"
	"github.com/televisit/televisit/visits/httpapi"
)

// enableRecordingAccess gives the API recording access: retention policies
// always (the configured retention is the default of clinics without a
// policy); playback and release links, and the retention sweeper, only
// when recording is configured. It returns the sweeper, or nil.
func enableRecordingAccess(ctx context.Context, c config.Recording, svc *visits.Service, api *httpapi.API,
	log *slog.Logger) (*visits.RetentionSweeper, error) {
	var objects visits.RecordingObjects
	if c.Enabled() {
		st, err := store.Open(ctx, store.Config{Endpoint: c.Endpoint, Region: c.Region, Bucket: c.Bucket,
			AccessKey: c.AccessKey.Value(), SecretKey: c.SecretKey.Value(), CAFile: c.CAFile, SSE: c.SSE,
			KMSKeyID: c.KMSKeyID, RetentionMode: c.RetentionMode, RetentionDays: c.RetentionDays,
			PartSize: int64(c.PartSizeMiB) << 20}, log)
		if err != nil {
			return nil, fmt.Errorf("recording access store: %w", err)
		}
		objects = st.Names(visits.ErrRecordingRetained, visits.ErrNotFound)
	}
	rec, err := visits.NewRecordings(visits.RecordingsConfig{DefaultRetentionMode: c.RetentionMode,
		DefaultRetentionDays: c.RetentionDays}, svc, objects)
	if err != nil {
		return nil, err
	}
	api.SetRecordings(rec)
	if objects == nil {
		return nil, nil
	}
	return visits.NewRetentionSweeper(visits.RetentionSweeperConfig{}, rec, log)
}

// runSweeper runs the retention sweeper until ctx ends (nothing to do when
// recording is off).
func (a *app) runSweeper(ctx context.Context) error {
	if a.sweep == nil {
		return nil
	}
	return a.sweep.Run(ctx)
}
