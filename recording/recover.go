package recording

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/televisit/televisit/recording/store"
	"github.com/televisit/televisit/visits"
)

// Recover finishes what a crash left: every object still uploading whose
// spool is here is uploaded (its readable prefix, a playable WebM or
// Matroska file) under the name the database holds for it,
// verified and marked stored, and its recording is stopped (reason
// error) if the database still has it live. It returns how many objects
// it stored; objects it cannot recover are logged and left for the next
// start.
func (m *Manager) Recover(ctx context.Context) (int, error) {
	objs, err := m.cat.UploadingRecordingObjects(ctx, system)
	if err != nil {
		return 0, fmt.Errorf("recording: recover: %w", err)
	}
	n := 0
	for _, o := range objs {
		if o.ParticipantID == "" || o.SpoolPath == "" {
			continue // a manifest: written again by nobody; its media objects are what matter
		}
		if _, err := os.Stat(o.SpoolPath); err != nil {
			m.log.WarnContext(ctx, "recording spool missing; cannot recover", "object", o.ID)
			continue
		}
		if err := m.recoverOne(ctx, o); err != nil {
			m.log.ErrorContext(ctx, "recording recovery failed", "object", o.ID, "err", err)
			continue
		}
		n++
	}
	return n, nil
}

func (m *Manager) recoverOne(ctx context.Context, o visits.RecordingObject) error {
	if _, err := m.cat.StopRecording(ctx, system, o.VisitID, visits.StopError); err != nil && !errors.Is(err, visits.ErrNotFound) {
		return err
	}
	key, err := recoveredKey(o)
	if err != nil {
		return err
	}
	put, err := m.putter(ctx, o.RecordingID)
	if err != nil {
		return err
	}
	var sum []byte
	obj, err := UploadSpool(ctx, hashingPutter{p: put, sum: &sum}, m.ring, o.SpoolPath, key, m.cfg.Upload, m.log)
	if err != nil {
		return err
	}
	if err := m.finalize(ctx, o.ID, o.SpoolPath, sum, obj.Size); err != nil {
		return err
	}
	m.log.InfoContext(ctx, "recording recovered after a crash", "object", o.ID, "bytes", obj.Size)
	return nil
}

// recoveredKey is the object's name as the database holds it (its
// extension gives the container), which must name this very object.
func recoveredKey(o visits.RecordingObject) (store.Key, error) {
	key, err := store.ParseKey(o.Key)
	if err != nil {
		return store.Key{}, fmt.Errorf("recording: object %s: %w", o.ID, err)
	}
	if key.Visit != o.VisitID || key.Recording != o.ID {
		return store.Key{}, fmt.Errorf("recording: object %s: key names another object", o.ID)
	}
	return key, nil
}
