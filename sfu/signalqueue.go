package sfu

import "sync"

// signalQueue is a bounded FIFO between Pion callbacks (which must never
// block) and the goroutine that calls the consumer's OnSignal.
type signalQueue struct {
	mu       sync.Mutex
	items    []Signal
	limit    int
	overflow bool
	wake     chan struct{} // capacity 1: "items may be non-empty"
}

func newSignalQueue(limit int) *signalQueue {
	return &signalQueue{limit: limit, wake: make(chan struct{}, 1)}
}

// push appends s; it reports false (and remembers it) when the consumer
// is too slow and the queue is full.
func (q *signalQueue) push(s Signal) bool {
	q.mu.Lock()
	if len(q.items) >= q.limit {
		q.overflow = true
		q.mu.Unlock()
		q.notify()
		return false
	}
	q.items = append(q.items, s)
	q.mu.Unlock()
	q.notify()
	return true
}

func (q *signalQueue) notify() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// drain takes every queued signal; overflowed reports a past overflow.
func (q *signalQueue) drain(dst []Signal) (out []Signal, overflowed bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	out = append(dst[:0], q.items...)
	clear(q.items)
	q.items = q.items[:0]
	return out, q.overflow
}

// run delivers signals to fn until done is closed or the queue overflows.
// It reports whether it stopped because of an overflow.
func (q *signalQueue) run(done <-chan struct{}, fn func(Signal)) (overflowed bool) {
	var batch []Signal
	for {
		select {
		case <-done:
			return false
		case <-q.wake:
		}
		batch, overflowed = q.drain(batch)
		for _, s := range batch {
			select {
			case <-done:
				return false
			default:
			}
			fn(s)
		}
		if overflowed {
			return true
		}
	}
}
