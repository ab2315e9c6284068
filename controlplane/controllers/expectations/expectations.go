// Package expectations remembers, per controller key, the pod creations and
// deletions a controller asked for and has not yet seen in its informer, so
// that a sync from a stale cache does not repeat them.
package expectations

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
)

// expectationsTTL bounds how long a controller waits for its own writes to
// show up in the informer before it syncs again anyway (upstream uses 5 min).
const expectationsTTL = 5 * time.Minute

// Expectations remembers, per controller key, how many pod creations and
// deletions the controller has issued but not yet seen in the informer. While
// any are outstanding the controller does not create or delete again, so a
// burst of creates is not repeated from a stale cache.
type Expectations struct {
	mu    sync.Mutex
	clock clock.PassiveClock
	m     map[string]*expectation
}

type expectation struct {
	add int
	del map[types.UID]bool
	at  time.Time
}

func New(c clock.PassiveClock) *Expectations {
	return &Expectations{clock: c, m: map[string]*expectation{}}
}

// Expect records add creations and the deletion of the pods dels about to
// be issued for key. Deletions are tracked by UID, as a pod is seen going
// away twice (graceful deletion, then removal).
func (e *Expectations) Expect(key string, add int, dels []types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := &expectation{add: add, del: map[types.UID]bool{}, at: e.clock.Now()}
	for _, u := range dels {
		x.del[u] = true
	}
	e.m[key] = x
}

// ObserveAdd lowers the outstanding creations for key by n (a create seen,
// or one that failed and will never be seen).
func (e *Expectations) ObserveAdd(key string, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.m[key]; ok {
		x.add -= n
	}
}

// ObserveDelete marks the deletion of pod uid for key as seen.
func (e *Expectations) ObserveDelete(key string, uid types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.m[key]; ok {
		delete(x.del, uid)
	}
}

// Satisfied reports whether key has nothing outstanding (or has waited too
// long, or was never recorded).
func (e *Expectations) Satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.m[key]
	if !ok {
		return true
	}
	return (x.add <= 0 && len(x.del) == 0) || e.clock.Since(x.at) > expectationsTTL
}

func (e *Expectations) Forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, key)
}
