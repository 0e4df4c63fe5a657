package notify

import (
	"math/rand/v2"
	"time"
)

// retryDelay is exponential backoff with full jitter: a uniformly random
// delay in [0, min(limit, base·2^(attempt-1))]. attempt counts from 1.
// jitter(n) returns a number in [0, n).
func retryDelay(attempt int, base, limit time.Duration, jitter func(int64) int64) time.Duration {
	ceiling := limit
	if attempt < 1 {
		attempt = 1
	}
	if shift := attempt - 1; shift < 62 && base <= limit>>shift {
		ceiling = base << shift
	}
	return time.Duration(jitter(int64(ceiling) + 1))
}

// defaultJitter draws from the goroutine-safe, randomly seeded generator of
// math/rand/v2.
func defaultJitter(n int64) int64 { return rand.Int64N(n) }
