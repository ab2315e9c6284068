// Package runner is a bounded-frequency sync loop: it syncs at most once
// per MinInterval however often it is triggered, at least once per
// MaxInterval, retries failed syncs with a growing backoff and tells the
// sync function when the next sync must be a full one (the first, and
// every one after a failure).
package runner

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"k8s.io/utils/clock"
)

// SyncFunc applies the desired state; full asks it to rewrite everything
// rather than what changed since the last successful sync.
type SyncFunc func(ctx context.Context, full bool) error

// Config configures a Runner.
type Config struct {
	MinInterval time.Duration // at most one sync per interval (0: no limit)
	MaxInterval time.Duration // at least one sync per interval (0: only when triggered)
	// RetryBackoff is the delay before retrying a failed sync; it doubles
	// per consecutive failure up to MaxInterval (or a minute without one).
	RetryBackoff time.Duration
	Sync         SyncFunc
	Clock        clock.Clock // nil: the real clock
	Logger       *slog.Logger
}

func (c Config) maxBackoff() time.Duration {
	if c.MaxInterval > 0 {
		return max(c.MaxInterval, c.RetryBackoff)
	}
	return max(time.Minute, c.RetryBackoff)
}

// Runner runs the sync function; see the package comment.
type Runner struct {
	cfg  Config
	kick chan struct{}
}

// New checks cfg and builds a Runner.
func New(cfg Config) (*Runner, error) {
	if cfg.Sync == nil {
		return nil, errors.New("runner: Config.Sync is nil")
	}
	if cfg.MinInterval < 0 || cfg.MaxInterval < 0 || cfg.RetryBackoff <= 0 {
		return nil, errors.New("runner: intervals must not be negative and RetryBackoff must be positive")
	}
	if cfg.MaxInterval > 0 && cfg.MaxInterval < cfg.MinInterval {
		return nil, errors.New("runner: MaxInterval is shorter than MinInterval")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Runner{cfg: cfg, kick: make(chan struct{}, 1)}, nil
}

// Trigger asks for a sync soon (within MinInterval of the last one).
// It never blocks; triggers coalesce.
func (r *Runner) Trigger() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Run syncs at once (full), then as scheduled, until ctx ends.
func (r *Runner) Run(ctx context.Context) {
	clk := r.cfg.Clock
	s := newSchedule(r.cfg, clk.Now())
	for ctx.Err() == nil {
		if now := clk.Now(); s.dueAt(now) {
			r.syncOnce(ctx, s, now)
			continue
		}
		r.wait(ctx, s)
	}
}

func (r *Runner) syncOnce(ctx context.Context, s *schedule, start time.Time) {
	err := r.cfg.Sync(ctx, s.full)
	s.done(start, r.cfg.Clock.Now(), err)
	if err != nil && ctx.Err() == nil {
		r.cfg.Logger.Error("sync failed, will retry with a full sync",
			"err", err, "failures", s.failures, "retryIn", s.due.Sub(r.cfg.Clock.Now()))
	}
}

// wait blocks until the next sync is due, a trigger arrives or ctx ends.
func (r *Runner) wait(ctx context.Context, s *schedule) {
	var due <-chan time.Time
	if !s.due.IsZero() {
		t := r.cfg.Clock.NewTimer(s.due.Sub(r.cfg.Clock.Now()))
		defer t.Stop()
		due = t.C()
	}
	select {
	case <-ctx.Done():
	case <-due:
	case <-r.kick:
		s.trigger(r.cfg.Clock.Now())
	}
}
