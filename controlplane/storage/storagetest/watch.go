package storagetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"rudder/controlplane/storage"
)

// want is an expected event; zero revisions are not checked.
type want struct {
	typ            storage.EventType
	key, value     string
	prev           string
	rev, createRev int64
}

func (w want) String() string {
	return fmt.Sprintf("%v %s=%q prev=%q @%d/%d", w.typ, w.key, w.value, w.prev, w.createRev, w.rev)
}

func describe(ev storage.Event) string {
	return want{ev.Type, ev.KV.Key, string(ev.KV.Value), string(ev.PrevValue), ev.KV.ModRevision, ev.KV.CreateRevision}.String() +
		fmt.Sprintf(" err=%v", ev.Err)
}

func nextEvent(t *testing.T, ch <-chan storage.Event) storage.Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("watch closed while waiting for an event")
		}
		return ev
	case <-time.After(timeout):
		t.Fatal("no event within the timeout")
	}
	return storage.Event{}
}

// expectEvents reads len(wants) events and compares them in order.
func expectEvents(t *testing.T, ch <-chan storage.Event, wants ...want) {
	t.Helper()
	for i, w := range wants {
		ev := nextEvent(t, ch)
		if ev.Type != w.typ || ev.KV.Key != w.key || string(ev.KV.Value) != w.value || string(ev.PrevValue) != w.prev ||
			w.rev != 0 && ev.KV.ModRevision != w.rev || w.createRev != 0 && ev.KV.CreateRevision != w.createRev {
			t.Fatalf("event %d: got %s, want %s", i, describe(ev), w)
		}
	}
}

// expectQuiet fails if an event arrives within d.
func expectQuiet(t *testing.T, ch <-chan storage.Event, d time.Duration) {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if ok {
			t.Fatalf("unexpected event %s", describe(ev))
		}
		t.Fatal("watch closed unexpectedly")
	case <-time.After(d):
	}
}

// expectClosed drains ch until it closes.
func expectClosed(t *testing.T, ch <-chan storage.Event) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("watch channel not closed")
		}
	}
}

func testWatchFromNow(t *testing.T, open Opener) {
	s := openStore(t, open)
	mustCreate(t, s, "/w/old", "x")
	ch := mustWatch(t, testContext(t), s, "/w/", 0)
	r1 := mustCreate(t, s, "/w/a", "a1")
	r2 := mustUpdate(t, s, "/w/a", "a2", r1)
	expectEvents(t, ch,
		want{typ: storage.EventPut, key: "/w/a", value: "a1", rev: r1, createRev: r1},
		want{typ: storage.EventPut, key: "/w/a", value: "a2", prev: "a1", rev: r2, createRev: r1})
	expectQuiet(t, ch, 100*time.Millisecond)
}

func testWatchFromPast(t *testing.T, open Opener) {
	s := openStore(t, open)
	start := mustRevision(t, s)
	ra := mustCreate(t, s, "/w/a", "a1")
	ra2 := mustUpdate(t, s, "/w/a", "a2", ra)
	rb := mustCreate(t, s, "/w/b", "b1")
	rdel, _ := mustDelete(t, s, "/w/a", ra2)
	replay := []want{
		{typ: storage.EventPut, key: "/w/a", value: "a1", rev: ra, createRev: ra},
		{typ: storage.EventPut, key: "/w/a", value: "a2", prev: "a1", rev: ra2, createRev: ra},
		{typ: storage.EventPut, key: "/w/b", value: "b1", rev: rb, createRev: rb},
		{typ: storage.EventDelete, key: "/w/a", value: "a2", prev: "a2", rev: rdel, createRev: ra},
	}
	// Three watches replay from different points, then all see a live write.
	var chans []<-chan storage.Event
	for _, from := range []int64{start, ra, ra2} {
		chans = append(chans, mustWatch(t, testContext(t), s, "/w/", from))
	}
	for i, ch := range chans {
		expectEvents(t, ch, replay[i:]...)
	}
	rev := mustUpdate(t, s, "/w/b", "b2", rb)
	for _, ch := range chans {
		expectEvents(t, ch, want{typ: storage.EventPut, key: "/w/b", value: "b2", prev: "b1", rev: rev, createRev: rb})
	}
}

func testWatchPrefixIsolation(t *testing.T, open Opener) {
	s := openStore(t, open)
	ch := mustWatch(t, testContext(t), s, "/p/", 0)
	for _, k := range []string{"/pq/x", "/p", "/q/x", "/p/x", "/p/sub/y", "/pp"} {
		mustCreate(t, s, k, "v")
	}
	expectEvents(t, ch,
		want{typ: storage.EventPut, key: "/p/x", value: "v"},
		want{typ: storage.EventPut, key: "/p/sub/y", value: "v"})
	expectQuiet(t, ch, 200*time.Millisecond)
}

func testWatchCancel(t *testing.T, open Opener) {
	s := openStore(t, open)
	ctx, cancel := context.WithCancel(testContext(t))
	ch := mustWatch(t, ctx, s, "/c/", 0)
	mustCreate(t, s, "/c/a", "1")
	expectEvents(t, ch, want{typ: storage.EventPut, key: "/c/a", value: "1"})
	mustCreate(t, s, "/c/b", "2") // pending when the watch ends
	cancel()
	expectClosed(t, ch)
	mustCreate(t, s, "/c/c", "3") // writes go on
}

func testWatchResumeAfterRestart(t *testing.T, open Opener) {
	s, reopen := open(t)
	r1 := mustCreate(t, s, "/r/1", "one")
	r2 := mustCreate(t, s, "/r/2", "two")
	r3 := mustUpdate(t, s, "/r/1", "uno", r1)
	s = reopen(t)
	if got := mustRevision(t, s); got < r3 {
		t.Fatalf("Revision() after restart = %d, want at least %d", got, r3)
	}
	if kv, err := s.Get(testContext(t), "/r/1"); err != nil || string(kv.Value) != "uno" || kv.ModRevision != r3 {
		t.Fatalf("Get after restart = %+v, %v", kv, err)
	}
	r4 := mustCreate(t, s, "/r/3", "three")
	if r4 <= r3 {
		t.Fatalf("first write after restart got revision %d, not above %d", r4, r3)
	}
	ch := mustWatch(t, testContext(t), s, "/r/", r1)
	expectEvents(t, ch,
		want{typ: storage.EventPut, key: "/r/2", value: "two", rev: r2, createRev: r2},
		want{typ: storage.EventPut, key: "/r/1", value: "uno", prev: "one", rev: r3, createRev: r1},
		want{typ: storage.EventPut, key: "/r/3", value: "three", rev: r4, createRev: r4})
}

// testCompaction is the 410 Gone path: history at and below a compaction
// is gone for List and Watch; after it, all still works.
func testCompaction(t *testing.T, open Opener) {
	s := openStore(t, open)
	ctx := testContext(t)
	var revs []int64
	for i := range 5 {
		revs = append(revs, mustCreate(t, s, fmt.Sprintf("/c/%d", i), "v"))
	}
	if err := s.Compact(ctx, revs[2]); err != nil {
		t.Fatalf("Compact(%d): %v", revs[2], err)
	}
	if got, err := s.CompactedRevision(ctx); err != nil || got != revs[2] {
		t.Errorf("CompactedRevision() = %d, %v; want %d", got, err, revs[2])
	}
	_, err := s.Watch(ctx, "/c/", revs[0])
	wantErr(t, "Watch below the compaction", err, storage.ErrCompacted)
	_, err = s.List(ctx, "/c/", storage.ListOptions{Revision: revs[0]})
	wantErr(t, "List below the compaction", err, storage.ErrCompacted)
	wantErr(t, "Compact again at the same revision", s.Compact(ctx, revs[2]), storage.ErrCompacted)
	wantErr(t, "Compact above the current revision", s.Compact(ctx, revs[4]+1000), storage.ErrFuture)

	if res := mustList(t, s, "/c/", storage.ListOptions{Revision: revs[2]}); len(res.Items) != 3 {
		t.Errorf("List at the compaction revision: %d items, want 3", len(res.Items))
	}
	if res := mustList(t, s, "/c/", storage.ListOptions{}); len(res.Items) != 5 {
		t.Errorf("List now: %d items, want 5", len(res.Items))
	}
	ch := mustWatch(t, ctx, s, "/c/", revs[2])
	expectEvents(t, ch,
		want{typ: storage.EventPut, key: "/c/3", value: "v", rev: revs[3]},
		want{typ: storage.EventPut, key: "/c/4", value: "v", rev: revs[4]})
	if _, err := s.Get(ctx, "/c/0"); err != nil {
		t.Errorf("Get of a key written before the compaction: %v", err)
	}
}
