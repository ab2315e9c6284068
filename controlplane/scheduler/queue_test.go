package scheduler

import (
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

func TestBackoffFor(t *testing.T) {
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for i, w := range want {
		if got := backoffFor(i + 1); got != w {
			t.Errorf("backoffFor(%d) = %v, want %v", i+1, got, w)
		}
	}
}

func TestQueue(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Unix(1000, 0))
	q := newQueue(clk)
	q.add("ns/a")
	q.add("ns/b")
	q.add("ns/a") // duplicate
	if a, _, _ := q.lengths(); a != 2 {
		t.Fatalf("active = %d, want 2", a)
	}
	key, cycle, _ := q.pop()
	if key != "ns/a" {
		t.Fatalf("popped %q, want FIFO ns/a", key)
	}
	q.unschedulableAttempt(key, cycle)
	if _, _, u := q.lengths(); u != 1 {
		t.Fatalf("unschedulable = %d, want 1", u)
	}

	// A cluster event moves it to backoff (1 s after its failure), then the
	// flush after a second makes it active again.
	q.moveAll()
	if _, b, _ := q.lengths(); b != 1 {
		t.Fatalf("backoff = %d, want 1", b)
	}
	q.flush()
	if _, b, _ := q.lengths(); b != 1 {
		t.Fatal("left backoff early")
	}
	clk.Step(time.Second)
	q.flush()
	if a, b, _ := q.lengths(); a != 2 || b != 0 {
		t.Fatalf("active, backoff = %d, %d, want 2, 0", a, b)
	}

	// An event during the attempt sends the pod to backoff, not to wait.
	key, cycle, _ = q.pop() // ns/b
	q.moveAll()
	q.unschedulableAttempt(key, cycle)
	if _, b, u := q.lengths(); b != 1 || u != 0 {
		t.Fatalf("backoff, unschedulable = %d, %d, want 1, 0", b, u)
	}

	// Unschedulable pods are retried after unschedulableFlush anyway.
	key, cycle, _ = q.pop() // ns/a again, second failure: 2 s backoff
	q.unschedulableAttempt(key, cycle)
	clk.Step(unschedulableFlush)
	q.flush()
	if _, _, u := q.lengths(); u != 0 {
		t.Fatalf("unschedulable = %d after flush, want 0", u)
	}
	q.remove("ns/a")
	q.remove("ns/b")
	if a, b, u := q.lengths(); a+b+u != 0 {
		t.Fatalf("queue not empty after remove: %d %d %d", a, b, u)
	}
	q.close()
	if _, _, ok := q.pop(); ok {
		t.Fatal("pop after close returned a key")
	}
}

func TestQueueChangedWhileInFlight(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Unix(1000, 0))
	q := newQueue(clk)
	q.add("ns/a")
	key, cycle, _ := q.pop()
	q.add(key) // the pod was updated during its attempt
	q.unschedulableAttempt(key, cycle)
	if _, b, u := q.lengths(); b != 1 || u != 0 {
		t.Fatalf("backoff, unschedulable = %d, %d, want 1, 0", b, u)
	}
}
