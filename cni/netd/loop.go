package netd

import (
	"context"
	"time"
)

const (
	minSyncGap = 100 * time.Millisecond // bursts of node events make one sync
	retryAfter = time.Second            // a failed sync is retried this soon
)

// loop runs sync at once, then again after every change (but not more
// often than minGap), at least every period, and retry after a failure.
// Every sync is a full one: it reads the kernel and the nodes afresh.
type loop struct {
	period time.Duration
	minGap time.Duration
	retry  time.Duration
}

func (l loop) run(ctx context.Context, changes <-chan struct{}, sync func() error) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	next := time.Now()
	var last time.Time
	schedule := func(at time.Time) {
		if at.Before(next) {
			next = at
			timer.Reset(time.Until(at))
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-changes:
			schedule(last.Add(l.minGap))
			continue
		case <-timer.C:
		}
		last = time.Now()
		wait := l.period
		if err := sync(); err != nil {
			wait = l.retry
		}
		next = last.Add(wait)
		timer.Reset(time.Until(next))
	}
}
