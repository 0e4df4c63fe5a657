package staffauth

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

const (
	limiterIdle    = 10 * time.Minute // forget an address after this long
	limiterMaxKeys = 10000
)

// ipLimiter is a token bucket per client address.
type ipLimiter struct {
	perMinute, burst int

	mu   sync.Mutex
	keys map[string]*ipBucket
}

type ipBucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newIPLimiter(perMinute, burst int) *ipLimiter {
	return &ipLimiter{perMinute: perMinute, burst: burst, keys: map[string]*ipBucket{}}
}

func (l *ipLimiter) allow(addr string) bool {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.keys[addr]
	if !ok {
		if len(l.keys) >= limiterMaxKeys {
			l.pruneLocked(now)
		}
		b = &ipBucket{lim: rate.NewLimiter(rate.Every(time.Minute/time.Duration(l.perMinute)), l.burst)}
		l.keys[addr] = b
	}
	b.seen = now
	return b.lim.AllowN(now, 1)
}

// pruneLocked forgets idle addresses; if all are busy, it forgets all
// rather than grow without bound.
func (l *ipLimiter) pruneLocked(now time.Time) {
	for k, b := range l.keys {
		if now.Sub(b.seen) > limiterIdle {
			delete(l.keys, k)
		}
	}
	if len(l.keys) >= limiterMaxKeys {
		clear(l.keys)
	}
}
