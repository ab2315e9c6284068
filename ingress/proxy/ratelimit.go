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
			l.evict(now)
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

// evictSample is how many buckets evict looks at.
const evictSample = 64

// evict makes room for one bucket. A bucket idle long enough to be full
// again goes first: forgetting it changes nothing. Else the least
// recently used of up to evictSample buckets goes (map order is random,
// so this approximates LRU, as Redis does): under a flood of new
// addresses, the active clients keep their limits, and making room costs
// the same however many buckets there are.
func (l *rateLimiter) evict(now time.Time) {
	var oldest limitKey
	var oldestAt time.Time
	n := 0
	for k, b := range l.buckets {
		if now.Sub(b.last) >= burstFactor*time.Second {
			delete(l.buckets, k)
			return
		}
		if n == 0 || b.last.Before(oldestAt) {
			oldest, oldestAt = k, b.last
		}
		if n++; n == evictSample {
			break
		}
	}
	delete(l.buckets, oldest)
}

func (l *rateLimiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
