package proxy

import "time"

// deadline remembers a connection's deadline so that keep-alive traffic
// does not update the runtime's timer on every request: extend moves it
// only when the wanted deadline is more than a 64th of the timeout past
// the one set (a 60 s timeout then fires between 59.06 and 60 s).
type deadline struct{ at time.Time }

// extend makes the deadline now+d, give or take d/64.
func (dl *deadline) extend(set func(time.Time) error, now time.Time, d time.Duration) {
	want := now.Add(d)
	if !dl.at.IsZero() && !dl.at.After(want) && want.Sub(dl.at) < d/64 {
		return
	}
	dl.set(set, want)
}

// set makes the deadline exactly at (the zero time: none).
func (dl *deadline) set(set func(time.Time) error, at time.Time) {
	set(at)
	dl.at = at
}
