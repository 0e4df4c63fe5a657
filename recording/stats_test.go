package recording

import (
	"context"
	"testing"
	"time"

	"github.com/televisit/televisit/visits"
)

// TestManagerStatsCountUploads: an active recording is counted until it
// stops, and its upload's result and bytes once stored.
func TestManagerStatsCountUploads(t *testing.T) {
	ctx := context.Background()
	f := newRecFixture(t)
	rec := f.consented(t)
	if err := f.m.Record(ctx, f.visit, rec.ID, "patient"); err != nil {
		t.Fatal(err)
	}
	if st := f.m.Stats(); st.Active != 1 || st.UploadsOK != 0 {
		t.Fatalf("while recording: %+v", st)
	}
	play(media(t), 2*time.Second, nil, f.taps(t, f.m, rec.ID, "patient"))
	if _, err := f.svc.StopRecording(ctx, f.clin, f.visit, visits.StopStopped); err != nil {
		t.Fatal(err)
	}
	f.m.Stop(ctx, rec.ID)
	f.m.Wait()
	objs, err := f.svc.RecordingObjects(ctx, visits.SystemActor("test"), rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	var size int64
	for _, o := range objs {
		if o.ParticipantID != "" {
			size += o.Size
		}
	}
	st := f.m.Stats()
	if st.Active != 0 || st.UploadsOK != 1 || st.UploadsFailed != 0 || size == 0 || int64(st.BytesUploaded) != size {
		t.Fatalf("after the upload: %+v (object bytes %d)", st, size)
	}
}
