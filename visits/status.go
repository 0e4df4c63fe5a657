package visits

// Status is where a visit stands.
type Status string

// Visit states.
const (
	StatusScheduled  Status = "scheduled"
	StatusWaiting    Status = "waiting"
	StatusInProgress Status = "in_progress"
	StatusCompleted  Status = "completed"
	StatusCancelled  Status = "cancelled"
	StatusNoShow     Status = "no_show"
)

// transitions lists, for each state, the states it may move to.
var transitions = map[Status][]Status{
	StatusScheduled:  {StatusWaiting, StatusCancelled, StatusNoShow},
	StatusWaiting:    {StatusInProgress, StatusCancelled, StatusNoShow},
	StatusInProgress: {StatusWaiting, StatusCompleted},
}

// CanMove reports whether a visit in state from may move to state to.
func CanMove(from, to Status) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// sourcesOf lists the states from which to can be reached; the store uses it
// in a conditional UPDATE so that a lost race is a conflict, not a double move.
func sourcesOf(to Status) []string {
	var out []string
	for from, tos := range transitions {
		for _, s := range tos {
			if s == to {
				out = append(out, string(from))
			}
		}
	}
	return out
}

// Terminal reports whether no transition leaves s.
func (s Status) Terminal() bool { return len(transitions[s]) == 0 }

// Valid reports whether s is a known state.
func (s Status) Valid() bool {
	switch s {
	case StatusScheduled, StatusWaiting, StatusInProgress, StatusCompleted, StatusCancelled, StatusNoShow:
		return true
	}
	return false
}
