package endpointslice

import (
	"maps"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/utils/clock"
)

// expectTimeout bounds how long a sync waits for the informer to show the
// controller's own slice writes before it goes ahead anyway.
const expectTimeout = 10 * time.Second

// expectations remember, per service, the slices this controller has just
// written or deleted, so that a sync does not act on an informer cache that
// has not seen them yet (and, say, create a second slice for the same pods).
type expectations struct {
	clock clock.PassiveClock
	mu    sync.Mutex
	m     map[string]*expected // by service key
	// gone holds slices the informer has seen deleted (namespace/name →
	// when): a write recorded after its slice's deletion was already
	// observed is not waited for. Names are generated, so never reused.
	gone map[string]time.Time
}

type expected struct {
	deadline time.Time
	writes   map[string]string // slice name → resourceVersion written
	deletes  map[string]bool   // slice names deleted
}

func newExpectations(c clock.PassiveClock) *expectations {
	return &expectations{clock: c, m: map[string]*expected{}, gone: map[string]time.Time{}}
}

func (e *expectations) get(key string) *expected {
	x := e.m[key]
	if x == nil {
		x = &expected{writes: map[string]string{}, deletes: map[string]bool{}}
		e.m[key] = x
	}
	x.deadline = e.clock.Now().Add(expectTimeout)
	return x
}

func (e *expectations) expectWrite(key string, s *discovery.EndpointSlice) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, gone := e.gone[s.Namespace+"/"+s.Name]; gone {
		return
	}
	x := e.get(key)
	x.writes[s.Name] = s.ResourceVersion
	delete(x.deletes, s.Name)
}

func (e *expectations) expectDelete(key string, s *discovery.EndpointSlice) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := e.get(key)
	x.deletes[s.Name] = true
	delete(x.writes, s.Name)
}

// observedDelete drops the expectations about a slice the informer has seen
// deleted: it has seen every earlier write of it too.
func (e *expectations) observedDelete(key string, s *discovery.EndpointSlice) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.clock.Now()
	for k, at := range e.gone {
		if now.Sub(at) > expectTimeout {
			delete(e.gone, k)
		}
	}
	e.gone[s.Namespace+"/"+s.Name] = now
	if x := e.m[key]; x != nil {
		delete(x.writes, s.Name)
		delete(x.deletes, s.Name)
	}
}

// satisfied drops the expectations for key that the cache (lookup) fulfils and
// reports whether none remain. lookup returns the cached slice or nil.
func (e *expectations) satisfied(key string, lookup func(name string) *discovery.EndpointSlice) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := e.m[key]
	if x == nil {
		return true
	}
	for name, rv := range x.writes {
		if s := lookup(name); s != nil && rvAtLeast(s.ResourceVersion, rv) {
			delete(x.writes, name)
		}
	}
	for name := range x.deletes {
		if lookup(name) == nil {
			delete(x.deletes, name)
		}
	}
	if len(x.writes)+len(x.deletes) == 0 || e.clock.Now().After(x.deadline) {
		delete(e.m, key)
		return true
	}
	return false
}

// rvAtLeast reports whether resourceVersion have is want or newer. Versions
// are store revisions here; if either is not a number only equality counts.
func rvAtLeast(have, want string) bool {
	h, err1 := strconv.ParseUint(have, 10, 64)
	w, err2 := strconv.ParseUint(want, 10, 64)
	if err1 != nil || err2 != nil {
		return have == want
	}
	return h >= w
}

// triggerTimes holds, per service, the earliest change not yet written out;
// it becomes the endpoints.kubernetes.io/last-change-trigger-time annotation
// (as upstream, the earliest unsynced change, so latency is not understated).
type triggerTimes struct {
	mu      sync.Mutex
	pending map[string]time.Time
}

func (t *triggerTimes) observe(key string, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if cur, ok := t.pending[key]; !ok || at.Before(cur) {
		t.pending[key] = at
	}
}

func (t *triggerTimes) take(key string) (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	at, ok := t.pending[key]
	delete(t.pending, key)
	return at, ok
}

// endpointsEqual compares the parts of Endpoints this controller manages.
func endpointsEqual(cur, want *corev1.Endpoints) bool {
	return maps.Equal(cur.Labels, want.Labels) && apiequality.Semantic.DeepEqual(cur.Subsets, want.Subsets)
}
