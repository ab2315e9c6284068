package netd

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// recorder is a sync function that records when it ran and fails while told to.
type recorder struct {
	mu   sync.Mutex
	at   []time.Time
	fail bool
}

func (r *recorder) sync() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.at = append(r.at, time.Now())
	if r.fail {
		return errors.New("fail")
	}
	return nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.at)
}

func runLoop(t *testing.T, l loop, changes chan struct{}, r *recorder) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.run(ctx, changes, r.sync); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func TestLoopSyncsAtOnceAndCoalescesChanges(t *testing.T) {
	r := &recorder{}
	changes := make(chan struct{}, 1)
	runLoop(t, loop{period: time.Hour, minGap: 50 * time.Millisecond, retry: time.Hour}, changes, r)
	eventually(t, time.Second, "first sync", func() bool { return r.count() == 1 })
	for range 20 { // a burst of node events
		select {
		case changes <- struct{}{}:
		default:
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if n := r.count(); n < 2 || n > 5 {
		t.Errorf("a burst of 20 changes made %d syncs, want a handful", n-1)
	}
}

func TestLoopPeriodAndRetry(t *testing.T) {
	r := &recorder{fail: true}
	runLoop(t, loop{period: time.Hour, minGap: time.Millisecond, retry: 30 * time.Millisecond}, nil, r)
	eventually(t, time.Second, "retries after failure", func() bool { return r.count() >= 3 })

	r2 := &recorder{}
	runLoop(t, loop{period: 30 * time.Millisecond, minGap: time.Millisecond, retry: time.Hour}, nil, r2)
	eventually(t, time.Second, "periodic syncs", func() bool { return r2.count() >= 3 })
}
