package signaling

import "time"

// coalescer turns a burst of "something changed" into at most one update
// per interval: the first request in a quiet period fires at once, later
// ones wait until interval after the last update. It belongs to the owner
// loop.
type coalescer struct {
	interval time.Duration
	last     time.Time // when the last update was sent
	timer    *time.Timer
	armed    bool
}

// request asks for an update.
func (c *coalescer) request() {
	if c.armed {
		return
	}
	d := max(0, c.interval-time.Since(c.last))
	if c.timer == nil {
		c.timer = time.NewTimer(d)
	} else {
		c.timer.Reset(d)
	}
	c.armed = true
}

// C fires when an update is due; nil (never ready) when none is wanted.
func (c *coalescer) C() <-chan time.Time {
	if !c.armed {
		return nil
	}
	return c.timer.C
}

// fired is called when C fired, before the update is made.
func (c *coalescer) fired() { c.armed = false }

// sent records that an update went out now and cancels a pending one: it
// is already covered.
func (c *coalescer) sent() {
	c.last = time.Now()
	if c.armed {
		c.timer.Stop()
		c.armed = false
	}
}

func (c *coalescer) stop() {
	if c.timer != nil {
		c.timer.Stop()
	}
}
