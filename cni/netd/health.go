package netd

import (
	"fmt"
	"net/http"
	"time"
)

// status is what the health endpoint reports.
type status struct {
	lastSuccess time.Time
	lastErr     error
	waiting     error
}

// Ready is closed after the first complete sync: device, routes,
// forwarding rules and CNI files all in place.
func (d *Daemon) Ready() <-chan struct{} { return d.ready }

func (d *Daemon) recordSync(at time.Time, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.status.lastErr, d.status.waiting = err, nil
	if err != nil {
		return
	}
	if d.status.lastSuccess.IsZero() {
		close(d.ready)
	}
	d.status.lastSuccess = at
}

func (d *Daemon) setWaiting(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.status.waiting = err
}

// staleAfter is how old the last successful sync may be before netd
// reports itself unhealthy: three periods and some slack.
func (d *Daemon) staleAfter() time.Duration { return 3*d.cfg.ResyncPeriod + 5*time.Second }

// Healthz answers 200 "ok" while syncs succeed, and 503 with the reason
// before the first successful sync or when the last one is too old.
func (d *Daemon) Healthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if msg := d.unhealthy(); msg != "" {
			http.Error(w, msg, http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
}

func (d *Daemon) unhealthy() string {
	d.mu.Lock()
	s := d.status
	d.mu.Unlock()
	switch {
	case s.waiting != nil:
		return fmt.Sprintf("netd: not ready: %v", s.waiting)
	case s.lastSuccess.IsZero() && s.lastErr != nil:
		return fmt.Sprintf("netd: not ready: %v", s.lastErr)
	case s.lastSuccess.IsZero():
		return "netd: not ready: first sync not done"
	}
	if age := time.Since(s.lastSuccess); age > d.staleAfter() {
		return fmt.Sprintf("netd: last successful sync %s ago: %v", age.Round(time.Second), s.lastErr)
	}
	return ""
}
