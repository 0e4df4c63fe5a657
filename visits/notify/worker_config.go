package notify

import (
	"errors"
	"time"
)

// WorkerConfig tunes a Worker. Zero fields take the defaults shown.
type WorkerConfig struct {
	Poll        time.Duration // how often to look for due rows without a NOTIFY; default 2s
	Batch       int           // rows claimed per round; default 20
	MaxAttempts int           // sends before a message fails for good; default 12
	BaseBackoff time.Duration // first retry delay bound; default 5s
	MaxBackoff  time.Duration // retry delay bound cap; default 1h
	SendTimeout time.Duration // bound on one Send; default 30s
	// Lease is how long a claimed row stays invisible to other workers. A
	// worker starts a send only while at least 1.5×SendTimeout of its lease
	// remains and hands the rest of the batch back. Default 5m; at least
	// 2×SendTimeout.
	Lease time.Duration
}

func (c *WorkerConfig) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.Poll, 2*time.Second)
	def(&c.BaseBackoff, 5*time.Second)
	def(&c.MaxBackoff, time.Hour)
	def(&c.SendTimeout, 30*time.Second)
	def(&c.Lease, 5*time.Minute)
	if c.Batch == 0 {
		c.Batch = 20
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 12
	}
}

func (c *WorkerConfig) validate() error {
	switch {
	case c.Poll < time.Millisecond:
		return errors.New("field Poll must be at least 1ms")
	case c.Batch < 1 || c.Batch > 1000:
		return errors.New("field Batch must be between 1 and 1000")
	case c.MaxAttempts < 1:
		return errors.New("field MaxAttempts must be at least 1")
	case c.BaseBackoff < time.Microsecond:
		return errors.New("field BaseBackoff must be at least 1µs")
	case c.MaxBackoff < c.BaseBackoff:
		return errors.New("field MaxBackoff must not be below BaseBackoff")
	case c.SendTimeout <= 0:
		return errors.New("field SendTimeout must be positive")
	case c.Lease < 2*c.SendTimeout:
		return errors.New("field Lease must be at least twice SendTimeout")
	}
	return nil
}
