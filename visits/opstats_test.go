package visits

import (
	"context"
	"testing"
	"time"
)

// TestOpsStatsAndAdmitHook: the waiting count follows check-in and admit,
// the outbox counts are grouped by state, and an admit reports the wait.
func TestOpsStatsAndAdmitHook(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	var waits []time.Duration
	f.svc.OnAdmitted(func(d time.Duration) { waits = append(waits, d) })
	st, err := f.svc.OpsStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Waiting != 0 || st.EHRJobs == nil || st.NotifyJobs == nil {
		t.Fatalf("empty database: %+v", st)
	}
	v := f.newVisit(t, nil)
	f.checkedIn(t, v.ID)
	if st, err = f.svc.OpsStats(ctx); err != nil || st.Waiting != 1 {
		t.Fatalf("after check-in: %+v %v", st, err)
	}
	if _, err := f.svc.Admit(ctx, f.clin, v.ID); err != nil {
		t.Fatal(err)
	}
	if st, err = f.svc.OpsStats(ctx); err != nil || st.Waiting != 0 {
		t.Fatalf("after admit: %+v %v", st, err)
	}
	if len(waits) != 1 || waits[0] < 0 || waits[0] > time.Minute {
		t.Fatalf("admit hook saw %v", waits)
	}
	if _, err := f.svc.Admit(ctx, f.clin, v.ID); err == nil || len(waits) != 1 {
		t.Fatalf("a refused admit reported a wait: %v %v", err, waits)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := f.svc.OpsStats(cctx); err == nil {
		t.Fatal("OpsStats with a cancelled context succeeded")
	}
}
