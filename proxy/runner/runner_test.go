package runner

import (
	"context"
	"errors"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

// harness runs a Runner on a fake clock; each sync reports its full flag
// on calls and returns the next scripted error.
type harness struct {
	clk   *clocktesting.FakeClock
	r     *Runner
	calls chan bool
	errs  chan error
}

// newHarness starts the runner; errs are the results of the first syncs,
// scripted before it starts (the first sync runs at once).
func newHarness(t *testing.T, errs ...error) *harness {
	h := &harness{
		clk:   clocktesting.NewFakeClock(t0),
		calls: make(chan bool, 10),
		errs:  make(chan error, 10),
	}
	for _, err := range errs {
		h.errs <- err
	}
	r, err := New(Config{
		MinInterval: time.Second, MaxInterval: time.Minute, RetryBackoff: 5 * time.Second,
		Clock: h.clk,
		Sync: func(ctx context.Context, full bool) error {
			h.calls <- full
			select {
			case err := <-h.errs:
				return err
			default:
				return nil
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.r = r
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return h
}

// expect waits for one sync and checks its full flag.
func (h *harness) expect(t *testing.T, full bool) {
	t.Helper()
	select {
	case got := <-h.calls:
		if got != full {
			t.Fatalf("sync full=%v, want %v", got, full)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no sync")
	}
}

// expectNone checks that no sync happens (for a moment of real time).
func (h *harness) expectNone(t *testing.T) {
	t.Helper()
	select {
	case <-h.calls:
		t.Fatal("unexpected sync")
	case <-time.After(50 * time.Millisecond):
	}
}

// waitIdle waits until the runner sleeps on a timer.
func (h *harness) waitIdle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !h.clk.HasWaiters() {
		if time.Now().After(deadline) {
			t.Fatal("runner never waits on its clock")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestRunnerRateLimitsTriggers(t *testing.T) {
	h := newHarness(t)
	h.expect(t, true)
	h.waitIdle(t)
	h.r.Trigger()
	h.r.Trigger()
	h.expectNone(t)
	h.clk.Step(time.Second)
	h.expect(t, false)
	h.expectNone(t)
}

func TestRunnerPeriodic(t *testing.T) {
	h := newHarness(t)
	h.expect(t, true)
	h.waitIdle(t)
	h.clk.Step(59 * time.Second)
	h.expectNone(t)
	h.clk.Step(time.Second)
	h.expect(t, false)
}

func TestRunnerRetriesFailureWithFullSync(t *testing.T) {
	h := newHarness(t, errors.New("boom"))
	h.expect(t, true)
	h.waitIdle(t)
	h.r.Trigger()
	h.clk.Step(4 * time.Second)
	h.expectNone(t)
	h.clk.Step(time.Second)
	h.expect(t, true)
	h.waitIdle(t)
	h.r.Trigger()
	h.clk.Step(time.Second)
	h.expect(t, false)
}

func TestNewRejectsBadConfig(t *testing.T) {
	ok := func(context.Context, bool) error { return nil }
	for name, cfg := range map[string]Config{
		"no sync":    {RetryBackoff: time.Second},
		"no backoff": {Sync: ok},
		"max < min":  {Sync: ok, RetryBackoff: time.Second, MinInterval: time.Minute, MaxInterval: time.Second},
		"negative":   {Sync: ok, RetryBackoff: time.Second, MinInterval: -1},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}
