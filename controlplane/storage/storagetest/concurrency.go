package storagetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"rudder/controlplane/storage"
)

const (
	writers         = 8
	writesPerWriter = 50
)

// createAll creates writers×perWriter keys under prefix from concurrent
// goroutines and returns key → revision.
func createAll(t *testing.T, s storage.Store, prefix string, perWriter int) map[string]int64 {
	t.Helper()
	ctx := testContext(t)
	var mu sync.Mutex
	revs := map[string]int64{}
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			last := int64(0)
			for i := range perWriter {
				key := fmt.Sprintf("%sw%d/%03d", prefix, w, i)
				rev, err := s.Create(ctx, key, []byte(key))
				if err != nil {
					errs <- err
					return
				}
				if rev <= last {
					errs <- fmt.Errorf("writer %d: revision %d after %d", w, rev, last)
					return
				}
				last = rev
				mu.Lock()
				revs[key] = rev
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return revs
}

// expectAll reads one event per key and checks the revisions are the ones
// the writers got, in increasing order.
func expectAll(t *testing.T, ch <-chan storage.Event, revs map[string]int64) {
	t.Helper()
	last := int64(0)
	for range len(revs) {
		ev := nextEvent(t, ch)
		if ev.Type != storage.EventPut || ev.KV.ModRevision <= last || revs[ev.KV.Key] != ev.KV.ModRevision {
			t.Fatalf("event %s after revision %d; the writer got %d", describe(ev), last, revs[ev.KV.Key])
		}
		last = ev.KV.ModRevision
	}
}

func testConcurrentWriters(t *testing.T, open Opener) {
	s := openStore(t, open)
	ch := mustWatch(t, testContext(t), s, "/cw/", 0)
	revs := createAll(t, s, "/cw/", writesPerWriter)
	seen := map[int64]string{}
	maxRev := int64(0)
	for key, rev := range revs {
		if other, dup := seen[rev]; dup {
			t.Fatalf("%s and %s both got revision %d", key, other, rev)
		}
		seen[rev] = key
		maxRev = max(maxRev, rev)
	}
	if got := mustRevision(t, s); got != maxRev {
		t.Errorf("Revision() = %d, want the last write's %d", got, maxRev)
	}
	expectAll(t, ch, revs)
	if res := mustList(t, s, "/cw/", storage.ListOptions{}); len(res.Items) != len(revs) {
		t.Errorf("List: %d items, want %d", len(res.Items), len(revs))
	}
}

// testOptimisticConcurrency races updates (and deletes) that expect the
// same revision: exactly one wins each round.
func testOptimisticConcurrency(t *testing.T, open Opener) {
	s := openStore(t, open)
	ctx := testContext(t)
	rev := mustCreate(t, s, "/o/k", "start")
	for round := range 5 {
		var wg sync.WaitGroup
		results := make([]error, writers)
		newRevs := make([]int64, writers)
		for w := range writers {
			wg.Go(func() {
				if round == 4 && w%2 == 1 {
					newRevs[w], _, results[w] = s.Delete(ctx, "/o/k", rev)
					return
				}
				newRevs[w], results[w] = s.Update(ctx, "/o/k", fmt.Appendf(nil, "r%d-w%d", round, w), rev)
			})
		}
		wg.Wait()
		winner := -1
		for w, err := range results {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("round %d: writers %d and %d both won", round, winner, w)
			case err == nil:
				winner = w
			case !errors.Is(err, storage.ErrConflict) && !errors.Is(err, storage.ErrNotFound):
				t.Fatalf("round %d: writer %d: %v, want ErrConflict", round, w, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no writer won", round)
		}
		rev = newRevs[winner]
		kv, err := s.Get(ctx, "/o/k")
		if round == 4 && winner%2 == 1 {
			wantErr(t, "Get after the winning delete", err, storage.ErrNotFound)
		} else if err != nil || string(kv.Value) != fmt.Sprintf("r%d-w%d", round, winner) || kv.ModRevision != rev {
			t.Fatalf("round %d: Get = %+v, %v; want the value of writer %d at %d", round, kv, err, winner, rev)
		}
	}
}

// testSlowWatcher checks that a watcher that reads nothing does not hold
// up writers, and still gets every event, in order, once it reads.
func testSlowWatcher(t *testing.T, open Opener) {
	s := openStore(t, open)
	ch := mustWatch(t, testContext(t), s, "/slow/", 0)
	revs := createAll(t, s, "/slow/", 100) // far more than any buffer
	expectAll(t, ch, revs)
}
