package visits

import "testing"

func TestStateMachine(t *testing.T) {
	all := []Status{StatusScheduled, StatusWaiting, StatusInProgress, StatusCompleted, StatusCancelled, StatusNoShow}
	allowed := map[[2]Status]bool{
		{StatusScheduled, StatusWaiting}: true, {StatusScheduled, StatusCancelled}: true, {StatusScheduled, StatusNoShow}: true,
		{StatusWaiting, StatusInProgress}: true, {StatusWaiting, StatusCancelled}: true, {StatusWaiting, StatusNoShow}: true,
		{StatusInProgress, StatusWaiting}: true, {StatusInProgress, StatusCompleted}: true,
	}
	for _, from := range all {
		for _, to := range all {
			if got := CanMove(from, to); got != allowed[[2]Status{from, to}] {
				t.Errorf("CanMove(%s, %s) = %v", from, to, got)
			}
		}
	}
	for _, s := range []Status{StatusCompleted, StatusCancelled, StatusNoShow} {
		if !s.Terminal() {
			t.Errorf("%s should be terminal", s)
		}
	}
	if Status("bogus").Valid() {
		t.Error("unknown status reported valid")
	}
}
