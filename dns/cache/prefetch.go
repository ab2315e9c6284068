package cache

import (
	"context"
	"math"
	"net"
	"time"

	"github.com/miekg/dns"

	"rudder/dns/plugin"
)

// shouldPrefetch counts a hit on it and tells whether it is popular and
// close enough to expiry to be refreshed now, claiming the refresh: only
// one refresh per entry runs at a time.
func (c *Cache) shouldPrefetch(it *item, now time.Time) bool {
	if c.cfg.PrefetchAmount < 0 {
		return false
	}
	// Popular means PrefetchAmount hits with no gap of PrefetchDuration
	// or more between them, as in CoreDNS.
	// The counters are written only when they change by much, so that a
	// hot entry's hits are reads on every core.
	ns := now.UnixNano()
	last := it.lastHit.Load()
	if last != 0 && ns-last >= int64(c.cfg.PrefetchDuration) {
		it.hits.Store(0)
	}
	if ns-last >= int64(time.Second) {
		it.lastHit.Store(ns)
	}
	hits := it.hits.Load()
	if hits < int64(c.cfg.PrefetchAmount) {
		if it.hits.Add(1) < int64(c.cfg.PrefetchAmount) {
			return false
		}
	}
	threshold := int64(math.Ceil(float64(c.cfg.PrefetchPercent) / 100 * float64(it.ttl)))
	if it.remaining(now) > threshold {
		return false
	}
	return it.prefetching.CompareAndSwap(false, true)
}

// startPrefetch refreshes it in the background through next with a copy
// of r; the reply replaces the entry.
func (c *Cache) startPrefetch(ctx context.Context, w dns.ResponseWriter, r *dns.Msg, it *item) {
	req := r.Copy()
	req.Id = dns.Id()
	remote := w.RemoteAddr()
	c.m.prefetches.Inc()
	go func() {
		defer it.prefetching.Store(false)
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), defaultPrefetchTimeout)
		defer cancel()
		q := req.Question[0]
		cw := &captureWriter{ResponseWriter: &prefetchWriter{remote: remote}, c: c, key: hashKey(q.Name, q.Qtype, q.Qclass, it.flags), flags: it.flags, q: q}
		if _, err := plugin.Next(ctx, c.Name(), c.next, cw, req); err != nil {
			c.log.Debug("cache prefetch failed", "name", q.Name, "type", dns.TypeToString[q.Qtype], "err", err)
		}
	}()
}

// prefetchWriter is the ResponseWriter of a background refresh: the reply
// goes into the cache and nowhere else.
type prefetchWriter struct{ remote net.Addr }

func (p *prefetchWriter) LocalAddr() net.Addr {
	if _, ok := p.remote.(*net.TCPAddr); ok {
		return &net.TCPAddr{}
	}
	return &net.UDPAddr{}
}
func (p *prefetchWriter) RemoteAddr() net.Addr        { return p.remote }
func (p *prefetchWriter) WriteMsg(*dns.Msg) error     { return nil }
func (p *prefetchWriter) Write(b []byte) (int, error) { return len(b), nil }
func (p *prefetchWriter) Close() error                { return nil }
func (p *prefetchWriter) TsigStatus() error           { return nil }
func (p *prefetchWriter) TsigTimersOnly(bool)         {}
func (p *prefetchWriter) Hijack()                     {}
