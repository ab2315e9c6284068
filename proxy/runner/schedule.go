package runner

import "time"

// schedule is the runner's pure timing logic: when the next sync is due
// and whether it must be full. Times are passed in, so it is tested
// without a clock.
type schedule struct {
	min, max, backoff, maxBackoff time.Duration

	full      bool      // the next sync must be full
	failures  int       // consecutive failed syncs
	notBefore time.Time // rate limit (or backoff) for triggered syncs
	due       time.Time // the next sync; zero: none scheduled
}

func newSchedule(cfg Config, now time.Time) *schedule {
	return &schedule{
		min: cfg.MinInterval, max: cfg.MaxInterval,
		backoff: cfg.RetryBackoff, maxBackoff: cfg.maxBackoff(),
		full: true, due: now,
	}
}

// trigger asks for a sync as soon as the rate limit allows.
func (s *schedule) trigger(now time.Time) {
	at := now
	if at.Before(s.notBefore) {
		at = s.notBefore
	}
	if s.due.IsZero() || at.Before(s.due) {
		s.due = at
	}
}

// dueAt tells whether a sync is due at now.
func (s *schedule) dueAt(now time.Time) bool {
	return !s.due.IsZero() && !now.Before(s.due)
}

// done records a sync that started at start and ended at end. After a
// success the next sync is partial, triggers wait for MinInterval from
// start and a periodic one comes MaxInterval after start. After a
// failure the next sync is full and comes after the backoff (doubling
// per consecutive failure), or MinInterval from start if that is later.
func (s *schedule) done(start, end time.Time, err error) {
	s.notBefore = start.Add(s.min)
	if err == nil {
		s.full, s.failures = false, 0
		s.due = time.Time{}
		if s.max > 0 {
			s.due = start.Add(s.max)
		}
		return
	}
	s.full = true
	s.failures++
	if retry := end.Add(s.retryDelay()); retry.After(s.notBefore) {
		s.notBefore = retry
	}
	s.due = s.notBefore
}

func (s *schedule) retryDelay() time.Duration {
	d := s.backoff
	for i := 1; i < s.failures && d < s.maxBackoff; i++ {
		d *= 2
	}
	return min(d, s.maxBackoff)
}
