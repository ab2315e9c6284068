package cache

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// store is a sharded map from key hash to item with a capacity; when a
// shard is full, an arbitrary entry (Go's map order) makes room, as in
// CoreDNS. Readers take no lock: each shard's map is replaced, never
// changed, by writers (copy on write), which is cheap for the small
// shards the defaults give (39 entries).
type store struct {
	shards  []shard
	mask    uint64
	perCap  int
	entries prometheus.Gauge
	evicted prometheus.Counter
}

type entries = map[uint64]*item

type shard struct {
	mu sync.Mutex // serializes writers
	m  atomic.Pointer[entries]
	_  [48]byte // keep shards on their own cache lines
}

func newStore(shards, capacity int, gauge prometheus.Gauge, evicted prometheus.Counter) *store {
	s := &store{
		shards:  make([]shard, shards),
		mask:    uint64(shards - 1),
		perCap:  max(1, (capacity+shards-1)/shards),
		entries: gauge,
		evicted: evicted,
	}
	for i := range s.shards {
		s.shards[i].m.Store(&entries{})
	}
	return s
}

func (s *store) shard(k uint64) *shard { return &s.shards[(k^k>>32)&s.mask] }

// get returns the live item for q under k, or nil. An expired item is
// removed.
func (s *store) get(k uint64, q *dns.Question, flags uint8, now time.Time) *item {
	sh := s.shard(k)
	it := (*sh.m.Load())[k]
	if it == nil || !it.matches(q, flags) {
		return nil
	}
	if !now.Before(it.expires) {
		s.update(sh, func(m entries) bool {
			if m[k] != it {
				return false
			}
			delete(m, k)
			s.entries.Dec()
			return true
		})
		return nil
	}
	return it
}

// update runs change on a copy of the shard's map and publishes the copy
// when change reports a change.
func (s *store) update(sh *shard, change func(m entries) bool) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	old := *sh.m.Load()
	m := make(entries, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	if change(m) {
		sh.m.Store(&m)
	}
}

// put stores it under k, evicting an entry when the shard is full.
func (s *store) put(k uint64, it *item) {
	s.update(s.shard(k), func(m entries) bool {
		if _, ok := m[k]; !ok {
			if len(m) >= s.perCap {
				for victim := range m {
					delete(m, victim)
					s.entries.Dec()
					s.evicted.Inc()
					break
				}
			}
			s.entries.Inc()
		}
		m[k] = it
		return true
	})
}

// del removes k.
func (s *store) del(k uint64) {
	sh := s.shard(k)
	if _, ok := (*sh.m.Load())[k]; !ok {
		return
	}
	s.update(sh, func(m entries) bool {
		if _, ok := m[k]; !ok {
			return false
		}
		delete(m, k)
		s.entries.Dec()
		return true
	})
}

// len counts the entries.
func (s *store) len() int {
	n := 0
	for i := range s.shards {
		n += len(*s.shards[i].m.Load())
	}
	return n
}
