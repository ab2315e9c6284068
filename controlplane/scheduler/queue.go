package scheduler

import (
	"sync"
	"time"

	"k8s.io/utils/clock"
)

const (
	initialBackoff = time.Second
	maxBackoff     = 10 * time.Second
	// unschedulableFlush is how long a pod may wait for a cluster event
	// before it is retried anyway (kube-scheduler's
	// podMaxInUnschedulablePodsDuration).
	unschedulableFlush = 5 * time.Minute
)

// queue holds the keys (namespace/name) of pods waiting to be scheduled in
// three places, as kube-scheduler's does: active (ready now, FIFO), backoff
// (failed recently, waiting for readyAt) and unschedulable (waiting for a
// change in the cluster). A pod's backoff doubles per failed attempt from
// 1 s up to 10 s.
type queue struct {
	clock clock.Clock

	mu            sync.Mutex
	cond          *sync.Cond
	active        []string
	inActive      map[string]bool
	backoff       map[string]bool
	unschedulable map[string]time.Time // key → since
	readyAt       map[string]time.Time // end of the pod's current backoff
	attempts      map[string]int
	inFlight      map[string]bool
	changed       map[string]bool // updated while in flight
	moveCycle     int64           // bumped by every cluster event that may help
	closed        bool
}

func newQueue(clk clock.Clock) *queue {
	q := &queue{
		clock:         clk,
		inActive:      map[string]bool{},
		backoff:       map[string]bool{},
		unschedulable: map[string]time.Time{},
		readyAt:       map[string]time.Time{},
		attempts:      map[string]int{},
		inFlight:      map[string]bool{},
		changed:       map[string]bool{},
	}
	q.cond = sync.NewCond(&q.mu)
	return q
}

func backoffFor(attempts int) time.Duration {
	d := initialBackoff
	for i := 1; i < attempts && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

// add queues a new or changed pending pod. A pod waiting as unschedulable is
// retried (after its backoff), since its own change may make it fit.
func (q *queue) add(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.inFlight[key] {
		q.changed[key] = true
		return
	}
	if q.inActive[key] || q.backoff[key] {
		return
	}
	delete(q.unschedulable, key)
	q.wakeLocked(key)
}

// wakeLocked moves key to active, or to backoff while its backoff lasts.
func (q *queue) wakeLocked(key string) {
	if r, ok := q.readyAt[key]; ok && r.After(q.clock.Now()) {
		q.backoff[key] = true
		return
	}
	delete(q.backoff, key)
	if !q.inActive[key] {
		q.inActive[key] = true
		q.active = append(q.active, key)
		q.cond.Signal()
	}
}

// remove forgets a pod that was deleted or bound by someone else.
func (q *queue) remove(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.backoff, key)
	delete(q.unschedulable, key)
	delete(q.readyAt, key)
	delete(q.attempts, key)
	delete(q.changed, key)
	if q.inActive[key] {
		delete(q.inActive, key)
		for i, k := range q.active {
			if k == key {
				q.active = append(q.active[:i], q.active[i+1:]...)
				break
			}
		}
	}
}

// pop blocks until a pod is ready and returns its key and the move cycle it
// was popped in; ok is false once the queue is closed.
func (q *queue) pop() (key string, moveCycle int64, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.active) == 0 && !q.closed {
		q.cond.Wait()
	}
	if q.closed {
		return "", 0, false
	}
	key = q.active[0]
	q.active[0] = ""
	q.active = q.active[1:]
	delete(q.inActive, key)
	q.inFlight[key] = true
	return key, q.moveCycle, true
}

// done ends an attempt that placed the pod (or found it gone).
func (q *queue) done(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.inFlight, key)
	delete(q.changed, key)
	delete(q.attempts, key)
	delete(q.readyAt, key)
}

// unschedulableAttempt ends an attempt that found no node. If the cluster
// changed while the pod was being tried it goes to backoff; otherwise it
// waits for such a change. The same goes for a pod updated meanwhile.
func (q *queue) unschedulableAttempt(key string, moveCycle int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	changed := q.changed[key]
	q.failLocked(key)
	if q.moveCycle == moveCycle && !changed {
		q.unschedulable[key] = q.clock.Now()
		return
	}
	q.wakeLocked(key)
}

// errorAttempt ends an attempt that failed for another reason (API error,
// bind rejected): the pod is retried after its backoff.
func (q *queue) errorAttempt(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.failLocked(key)
	q.wakeLocked(key)
}

func (q *queue) failLocked(key string) {
	delete(q.inFlight, key)
	delete(q.changed, key)
	q.attempts[key]++
	q.readyAt[key] = q.clock.Now().Add(backoffFor(q.attempts[key]))
}

// moveAll retries every unschedulable pod after a cluster event.
func (q *queue) moveAll() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.moveCycle++
	for key := range q.unschedulable {
		delete(q.unschedulable, key)
		q.wakeLocked(key)
	}
}

// flush moves pods whose backoff is over to active, and pods unschedulable
// for longer than unschedulableFlush back into play.
func (q *queue) flush() {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.clock.Now()
	for key := range q.backoff {
		if !q.readyAt[key].After(now) {
			q.wakeLocked(key)
		}
	}
	for key, since := range q.unschedulable {
		if now.Sub(since) >= unschedulableFlush {
			delete(q.unschedulable, key)
			q.wakeLocked(key)
		}
	}
}

func (q *queue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.cond.Broadcast()
}

// lengths reports the sizes of active, backoff and unschedulable.
func (q *queue) lengths() (active, backoff, unschedulable int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.active), len(q.backoff), len(q.unschedulable)
}
