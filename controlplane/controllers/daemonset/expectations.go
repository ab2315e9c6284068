package daemonset

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
)

// expectationsTTL bounds how long a controller waits for its own writes to
// show up in the informer before it syncs again anyway (upstream uses 5 min).
const expectationsTTL = 5 * time.Minute

// expectations remembers, per DaemonSet key, how many pod creations and
// deletions the controller has issued but not yet seen in the informer. While
// any are outstanding the controller does not create or delete again, so a
// burst of creates is not repeated from a stale cache.
type expectations struct {
	mu    sync.Mutex
	clock clock.PassiveClock
	m     map[string]*expectation
}

type expectation struct {
	add int
	del map[types.UID]bool
	at  time.Time
}

func newExpectations(c clock.PassiveClock) *expectations {
	return &expectations{clock: c, m: map[string]*expectation{}}
}

// expect records add creations and the deletion of the pods dels about to
// be issued for key. Deletions are tracked by UID, as a pod is seen going
// away twice (graceful deletion, then removal).
func (e *expectations) expect(key string, add int, dels []types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := &expectation{add: add, del: map[types.UID]bool{}, at: e.clock.Now()}
	for _, u := range dels {
		x.del[u] = true
	}
	e.m[key] = x
}

// observeAdd lowers the outstanding creations for key by n (a create seen,
// or one that failed and will never be seen).
func (e *expectations) observeAdd(key string, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.m[key]; ok {
		x.add -= n
	}
}

// observeDelete marks the deletion of pod uid for key as seen.
func (e *expectations) observeDelete(key string, uid types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.m[key]; ok {
		delete(x.del, uid)
	}
}

// satisfied reports whether key has nothing outstanding (or has waited too
// long, or was never recorded).
func (e *expectations) satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.m[key]
	if !ok {
		return true
	}
	return (x.add <= 0 && len(x.del) == 0) || e.clock.Since(x.at) > expectationsTTL
}

func (e *expectations) forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, key)
}
