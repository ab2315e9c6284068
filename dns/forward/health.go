package forward

import (
	"context"
	"time"

	"github.com/miekg/dns"
)

// maxHealthTimeout bounds one health check.
const maxHealthTimeout = time.Second

// markedDown starts the background health check of u, once.
func (f *Forward) markedDown(u *upstream) {
	f.log.Warn("dns upstream marked down", "upstream", u.addr, "fails", u.fails.Load())
	if !u.checking.CompareAndSwap(false, true) {
		return
	}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			f.healthLoop(u)
			u.checking.Store(false)
			// Marked down again between the last check and now: go on.
			if !u.down.Load() || contextDone(f.ctx) || !u.checking.CompareAndSwap(false, true) {
				return
			}
		}
	}()
}

// healthLoop asks u for ". IN NS" every HealthInterval until it answers
// (any reply counts) or the forwarder is closed.
func (f *Forward) healthLoop(u *upstream) {
	t := time.NewTicker(f.cfg.HealthInterval)
	defer t.Stop()
	for {
		select {
		case <-f.ctx.Done():
			return
		case <-t.C:
		}
		if !u.down.Load() {
			return // a real query got through meanwhile
		}
		if err := f.check(u); err != nil {
			u.hcFailure.Inc()
			f.log.Debug("dns upstream health check failed", "upstream", u.addr, "err", err)
			continue
		}
		u.succeeded()
		f.log.Info("dns upstream up again", "upstream", u.addr)
		return
	}
}

// check sends one health check query to u.
func (f *Forward) check(u *upstream) error {
	q := new(dns.Msg)
	q.SetQuestion(".", dns.TypeNS)
	q.RecursionDesired = false
	buf := make([]byte, 64)
	framed, err := frame(q, dns.Id(), buf)
	if err != nil {
		return err
	}
	timeout := min(f.cfg.Timeout, maxHealthTimeout, f.cfg.HealthInterval)
	_, err = u.exchange(f.ctx, framed, &q.Question[0], f.cfg.ForceTCP, timeout)
	return err
}

// contextDone tells whether ctx is over.
func contextDone(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return true
	default:
		return false
	}
}
