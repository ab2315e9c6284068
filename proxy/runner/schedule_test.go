package runner

import (
	"errors"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func testSchedule() *schedule {
	return newSchedule(Config{MinInterval: time.Second, MaxInterval: time.Minute, RetryBackoff: 2 * time.Second}, t0)
}

func TestScheduleFirstSyncIsImmediateAndFull(t *testing.T) {
	s := testSchedule()
	if !s.dueAt(t0) || !s.full {
		t.Fatalf("first sync: due=%v full=%v, want due now and full", s.due, s.full)
	}
}

func TestScheduleSuccess(t *testing.T) {
	s := testSchedule()
	s.done(t0, at(100*time.Millisecond), nil)
	if s.full {
		t.Error("sync after a success is full")
	}
	if s.dueAt(at(59*time.Second)) || !s.dueAt(at(time.Minute)) {
		t.Errorf("periodic sync due at %v, want t0+1m", s.due)
	}
	s.trigger(at(200 * time.Millisecond))
	if !s.due.Equal(at(time.Second)) {
		t.Errorf("trigger right after a sync: due %v, want t0+1s (min interval)", s.due)
	}
	s.trigger(at(300 * time.Millisecond))
	if !s.due.Equal(at(time.Second)) {
		t.Errorf("second trigger moved due to %v", s.due)
	}
}

func TestScheduleTriggerAfterMinIntervalIsImmediate(t *testing.T) {
	s := testSchedule()
	s.done(t0, at(10*time.Millisecond), nil)
	s.trigger(at(5 * time.Second))
	if !s.due.Equal(at(5 * time.Second)) {
		t.Errorf("due %v, want the trigger time", s.due)
	}
}

func TestScheduleNoMaxInterval(t *testing.T) {
	s := newSchedule(Config{MinInterval: time.Second, RetryBackoff: time.Second}, t0)
	s.done(t0, t0, nil)
	if !s.due.IsZero() {
		t.Errorf("without MaxInterval a sync is due at %v, want none", s.due)
	}
	s.trigger(at(time.Hour))
	if !s.dueAt(at(time.Hour)) {
		t.Error("trigger did not schedule a sync")
	}
}

func TestScheduleFailureBacksOffAndForcesFull(t *testing.T) {
	s := testSchedule()
	boom := errors.New("boom")
	s.done(t0, t0, nil)
	start := at(10 * time.Second)
	var want []time.Duration
	var got []time.Duration
	for _, w := range []time.Duration{2, 4, 8, 16, 32, 60, 60} {
		s.done(start, start, boom)
		if !s.full {
			t.Fatal("sync after a failure is not full")
		}
		got = append(got, s.due.Sub(start))
		want = append(want, w*time.Second)
		s.trigger(start) // triggers do not shorten the backoff
		if s.due.Sub(start) != got[len(got)-1] {
			t.Errorf("trigger shortened the backoff to %v", s.due.Sub(start))
		}
		start = s.due
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("retry delays %v, want %v", got, want)
			break
		}
	}
	s.done(start, start, nil)
	if s.full || s.failures != 0 {
		t.Errorf("after recovery full=%v failures=%d", s.full, s.failures)
	}
}

func TestScheduleBackoffNotShorterThanMinInterval(t *testing.T) {
	s := newSchedule(Config{MinInterval: 10 * time.Second, MaxInterval: time.Minute, RetryBackoff: time.Second}, t0)
	s.done(t0, at(time.Second), errors.New("boom"))
	if !s.due.Equal(at(10 * time.Second)) {
		t.Errorf("retry due %v, want t0+10s", s.due)
	}
}
