package forward

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/miekg/dns"

	"rudder/dns/plugin"
)

// ServeDNS forwards r to the upstreams in policy order until one answers,
// and writes that reply with r's ID. It returns REFUSED (unwritten) past
// MaxConcurrent and SERVFAIL (unwritten) when no upstream answered.
func (f *Forward) ServeDNS(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	if len(r.Question) != 1 {
		return dns.RcodeFormatError, nil
	}
	if f.excepted(r.Question[0].Name) {
		return plugin.Next(ctx, f.Name(), f.next, w, r)
	}
	if n := f.inflight.Add(1); n > int64(f.cfg.MaxConcurrent) {
		f.inflight.Add(-1)
		f.m.rejects.Inc()
		return dns.RcodeRefused, nil
	}
	defer f.inflight.Add(-1)

	bp := f.qbufs.Get().(*[]byte)
	defer f.qbufs.Put(bp)
	framed, err := frame(r, uint16(rand.Uint32()), *bp)
	if err != nil {
		return dns.RcodeFormatError, fmt.Errorf("forward %s: %w", r.Question[0].Name, err)
	}
	tcp := f.cfg.ForceTCP || plugin.NewRequest(w, r).Proto() == "tcp"
	reply, err := f.try(ctx, framed, &r.Question[0], tcp)
	if err != nil {
		return dns.RcodeServerFailure, fmt.Errorf("forward %s: %w", r.Question[0].Name, err)
	}
	reply.Id = r.Id
	if len(reply.Question) == 0 {
		reply.Question = r.Question
	}
	if err := w.WriteMsg(reply); err != nil {
		return dns.RcodeServerFailure, fmt.Errorf("forward %s: write reply: %w", r.Question[0].Name, err)
	}
	if !plugin.ClientWrite(reply.Rcode) {
		return dns.RcodeSuccess, nil // written: the server must not write again
	}
	return reply.Rcode, nil
}

// excepted tells whether name is in one of the Except domains.
func (f *Forward) excepted(name string) bool {
	for _, d := range f.except {
		if dns.IsSubDomain(d, name) {
			return true
		}
	}
	return false
}

// try asks the healthy upstreams in policy order; when all are down it
// asks one at random anyway, in case the health checks are what is broken.
func (f *Forward) try(ctx context.Context, framed []byte, q *dns.Question, tcp bool) (*dns.Msg, error) {
	var arr [maxUpstreams]*upstream
	list := f.cfg.Policy.order(f.ups, &f.rr, arr[:0])
	var lastErr error
	tried := 0
	for _, u := range list {
		if u.down.Load() {
			continue
		}
		if contextDone(ctx) {
			return nil, ctx.Err()
		}
		tried++
		m, err := f.tryOne(ctx, u, framed, q, tcp)
		if err == nil {
			return m, nil
		}
		lastErr = err
	}
	if tried == 0 {
		u := f.ups[rand.IntN(len(f.ups))]
		m, err := f.tryOne(ctx, u, framed, q, tcp)
		if err == nil {
			return m, nil
		}
		lastErr = err
	}
	return nil, fmt.Errorf("%w (last: %w)", ErrNoUpstream, lastErr)
}

// tryOne asks u, over TCP again when the UDP reply is truncated, and
// keeps u's health up to date.
func (f *Forward) tryOne(ctx context.Context, u *upstream, framed []byte, q *dns.Question, tcp bool) (*dns.Msg, error) {
	start := time.Now()
	m, err := u.exchange(ctx, framed, q, tcp, f.cfg.Timeout)
	if err == nil && m.Truncated && !tcp {
		u.countReply(m, start)
		u.succeeded()
		start = time.Now()
		full, err := u.exchange(ctx, framed, q, true, f.cfg.Timeout)
		u.countReply(full, start)
		if err != nil {
			f.log.Debug("dns upstream tcp retry failed", "upstream", u.addr, "err", err)
			return m, nil // the truncated reply tells the client to retry over TCP
		}
		return full, nil
	}
	u.countReply(m, start)
	if err != nil {
		if contextDone(ctx) {
			return nil, fmt.Errorf("upstream %s: %w", u.addr, err) // the client gave up: not the upstream's fault
		}
		if u.failed(f.maxFails) {
			f.markedDown(u)
		}
		return nil, fmt.Errorf("upstream %s: %w", u.addr, err)
	}
	u.succeeded()
	return m, nil
}
