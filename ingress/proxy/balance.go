package proxy

import (
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"time"

	"rudder/ingress/route"
)

// Passive outlier ejection: an endpoint failing ejectAfter times in a row
// is skipped for ejectBase, doubling on each repeat up to ejectMax. The
// multiplier resets after the endpoint stays healthy for ejectMax.
const (
	ejectAfter = 5
	ejectBase  = 10 * time.Second
	ejectMax   = 5 * time.Minute
	// endpointIdle is how long an unused endpoint's state is kept.
	endpointIdle = 10 * time.Minute
)

// endpoint is the proxy's state of one upstream address, shared by all
// generations and backends that name it.
type endpoint struct {
	addr string // host:port to dial
	hash string // affinity cookie value

	outstanding  atomic.Int64
	fails        atomic.Int32
	ejectedUntil atomic.Int64 // unix nanoseconds
	lastUsed     atomic.Int64 // unix nanoseconds

	mu        sync.Mutex
	ejections int       // consecutive ejections, for the back-off
	lastEnd   time.Time // end of the last ejection

	h1 h1Pool // keep-alive connections of the fast path
}

func (e *endpoint) ejected(now int64) bool { return e.ejectedUntil.Load() > now }

// succeeded resets the consecutive failure count.
func (e *endpoint) succeeded() {
	if e.fails.Load() != 0 {
		e.fails.Store(0)
	}
}

// failed counts a failure and reports whether it ejected the endpoint.
func (e *endpoint) failed(now time.Time) bool {
	if e.fails.Add(1) < ejectAfter {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ejected(now.UnixNano()) {
		return false
	}
	e.fails.Store(0)
	if !e.lastEnd.IsZero() && now.Sub(e.lastEnd) > ejectMax {
		e.ejections = 0
	}
	d := ejectBase << e.ejections
	if d > ejectMax || d <= 0 {
		d = ejectMax
	} else {
		e.ejections++
	}
	e.lastEnd = now.Add(d)
	e.ejectedUntil.Store(e.lastEnd.UnixNano())
	return true
}

// endpointSet holds the state of every endpoint in use.
type endpointSet struct {
	mu sync.Mutex
	m  map[string]*endpoint
}

func newEndpointSet() *endpointSet {
	return &endpointSet{m: make(map[string]*endpoint)}
}

func (s *endpointSet) get(addr string) *endpoint {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.m[addr]
	if e == nil {
		sum := sha256.Sum256([]byte(addr))
		e = &endpoint{addr: addr, hash: hex.EncodeToString(sum[:8])}
		e.lastUsed.Store(time.Now().UnixNano())
		s.m[addr] = e
	}
	return e
}

// sweep forgets endpoints idle for endpointIdle that are neither busy nor
// ejected, so the set stays bounded as pods come and go.
func (s *endpointSet) sweep(now time.Time) {
	cutoff := now.Add(-endpointIdle).UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	for addr, e := range s.m {
		if e.outstanding.Load() == 0 && !e.ejected(now.UnixNano()) && e.lastUsed.Load() < cutoff {
			delete(s.m, addr)
			e.h1.closeAll()
		}
	}
}

func (s *endpointSet) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// backendState is a backend's endpoints in one generation.
type backendState struct {
	eps    []*endpoint
	byHash map[string]*endpoint
	rr     atomic.Uint64
}

func newBackendState(set *endpointSet, addrs []string) *backendState {
	b := &backendState{byHash: make(map[string]*endpoint, len(addrs))}
	for _, a := range addrs {
		e := set.get(a)
		b.eps = append(b.eps, e)
		b.byHash[e.hash] = e
	}
	return b
}

// pick chooses an endpoint not in tried: by round robin or least
// outstanding requests among those not ejected, else an ejected one
// (never all ejected), else nil when every endpoint was tried.
func (b *backendState) pick(bal route.Balance, tried []*endpoint, now int64) *endpoint {
	n := uint64(len(b.eps))
	start := (b.rr.Add(1) - 1) % n
	var best, fallback *endpoint
	for i := uint64(0); i < n; i++ {
		e := b.eps[(start+i)%n]
		if contains(tried, e) {
			continue
		}
		if e.ejected(now) {
			if fallback == nil || e.ejectedUntil.Load() < fallback.ejectedUntil.Load() {
				fallback = e
			}
			continue
		}
		if bal != route.LeastRequest {
			return e
		}
		if best == nil || e.outstanding.Load() < best.outstanding.Load() {
			best = e
		}
	}
	if best != nil {
		return best
	}
	return fallback
}

// sticky is the endpoint an affinity cookie names, if it is still a
// healthy endpoint of the backend.
func (b *backendState) sticky(hash string, now int64) *endpoint {
	e := b.byHash[hash]
	if e == nil || e.ejected(now) {
		return nil
	}
	return e
}

func contains(s []*endpoint, e *endpoint) bool {
	for _, x := range s {
		if x == e {
			return true
		}
	}
	return false
}
