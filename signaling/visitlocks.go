package signaling

import (
	"sync"

	"github.com/google/uuid"
)

// visitLocks is a lock per visit, for decisions that must not interleave
// on this node: a room that empties (and is released) and a join that
// claims it again; two sessions stopping the same recording. Held across
// a database call; never with another lock.
type visitLocks struct {
	mu    sync.Mutex
	locks map[uuid.UUID]*visitLock
}

type visitLock struct {
	sync.Mutex
	users int
}

func (vl *visitLocks) lock(visit uuid.UUID) (unlock func()) {
	vl.mu.Lock()
	if vl.locks == nil {
		vl.locks = map[uuid.UUID]*visitLock{}
	}
	l := vl.locks[visit]
	if l == nil {
		l = &visitLock{}
		vl.locks[visit] = l
	}
	l.users++
	vl.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		vl.mu.Lock()
		if l.users--; l.users == 0 {
			delete(vl.locks, visit)
		}
		vl.mu.Unlock()
	}
}
