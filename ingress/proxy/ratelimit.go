package proxy

import (
	"net/netip"
	"sync"
	"time"
)

// burstFactor is the token bucket's depth in seconds of rate, like
// ingress-nginx's limit-burst-multiplier default.
const burstFactor = 5

// defaultMaxBuckets bounds the limiter's memory.
const defaultMaxBuckets = 1 << 16

// rateLimiter is a token bucket per (scope, client address).
type rateLimiter struct {
	mu      sync.Mutex
	buckets map[limitKey]bucket
	max     int
}

type limitKey struct {
	scope string
	addr  netip.Addr
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(max int) *rateLimiter {
	return &rateLimiter{buckets: make(map[limitKey]bucket), max: max}
}

// allow takes a token from the bucket of (scope, addr) filling at rps per
// second, and reports whether there was one.
func (l *rateLimiter) allow(scope string, addr netip.Addr, rps int, now time.Time) bool {
	burst := float64(rps * burstFactor)
	k := limitKey{scope, addr}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[k]
	if !ok {
		if len(l.buckets) >= l.max {
			l.evict(now, float64(rps))
		}
		b = bucket{tokens: burst, last: now}
	} else {
		b.tokens += now.Sub(b.last).Seconds() * float64(rps)
		if b.tokens > burst {
			b.tokens = burst
		}
		b.last = now
	}
	allowed := b.tokens >= 1
	if allowed {
		b.tokens--
	}
	l.buckets[k] = b
	return allowed
}

// evict drops the buckets that have been idle long enough to be full
// again (forgetting them changes nothing); when that frees nothing, it
// drops them all, failing open rather than growing without bound.
func (l *rateLimiter) evict(now time.Time, rps float64) {
	for k, b := range l.buckets {
		if now.Sub(b.last).Seconds()*rps >= burstFactor*rps {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= l.max {
		clear(l.buckets)
	}
}

func (l *rateLimiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
