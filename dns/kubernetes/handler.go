package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"rudder/dns/plugin"
	"rudder/proxy/serviceview"
)

// Config configures a Handler.
type Config struct {
	// Next answers what is not the zone's (reverse names the zone does not
	// hold, other names) and resolves ExternalName targets outside the
	// zone. Nil: Plugin sets it, or such queries get SERVFAIL.
	Next plugin.Handler
	// Domain is the cluster domain (default cluster.local.).
	Domain string
	// TTL of records and negative answers (default 5).
	TTL uint32
	// NSIPs are the addresses of ns.dns.<zone> (see ZoneConfig).
	NSIPs []net.IP
	// View feeds Run. Nil: the zone comes from SetZone only (tests).
	View *serviceview.View
	// Registerer takes the metrics; nil registers nothing.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	// MinInterval is the least time between the starts of two builds, so
	// that a burst of endpoint changes costs a few builds, not one each
	// (default 100ms; negative: none).
	MinInterval time.Duration
	// Now is the clock for SOA serials (time.Now when nil).
	Now func() time.Time
}

// Handler is the kubernetes plugin: it answers the cluster zone from the
// current Zone and passes everything else to the next handler.
type Handler struct {
	next    plugin.Handler
	zcfg    ZoneConfig
	domain  string
	view    *serviceview.View
	log     *slog.Logger
	now     func() time.Time
	minGap  time.Duration
	zone    atomic.Pointer[Zone]
	ready   atomic.Bool
	metrics metrics
}

// New checks cfg and returns a Handler with no zone yet (queries for the
// zone get SERVFAIL until Run or SetZone provides one).
func New(cfg Config) (*Handler, error) {
	zcfg := ZoneConfig{Domain: cfg.Domain, TTL: cfg.TTL, NSIPs: cfg.NSIPs}.withDefaults()
	if _, ok := dns.IsDomainName(zcfg.Domain); !ok || zcfg.Domain == "." {
		return nil, fmt.Errorf("kubernetes: invalid cluster domain %q", cfg.Domain)
	}
	h := &Handler{next: cfg.Next, zcfg: zcfg, domain: zcfg.Domain, view: cfg.View, log: cfg.Logger, now: cfg.Now}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.now == nil {
		h.now = time.Now
	}
	switch {
	case cfg.MinInterval == 0:
		h.minGap = 100 * time.Millisecond
	case cfg.MinInterval > 0:
		h.minGap = cfg.MinInterval
	}
	h.metrics = newMetrics()
	if cfg.Registerer != nil {
		if err := h.metrics.register(cfg.Registerer); err != nil {
			return nil, fmt.Errorf("kubernetes: register metrics: %w", err)
		}
	}
	return h, nil
}

// Plugin returns the handler as a chain element; building the chain sets
// its next handler, so call it once, before serving.
func (h *Handler) Plugin() plugin.Plugin {
	return func(next plugin.Handler) plugin.Handler {
		h.next = next
		return h
	}
}

// Name is "kubernetes".
func (h *Handler) Name() string { return "kubernetes" }

// Zone is the zone being served, or nil.
func (h *Handler) Zone() *Zone { return h.zone.Load() }

// SetZone serves z from now on and makes the handler ready.
func (h *Handler) SetZone(z *Zone) {
	h.zone.Store(z)
	h.metrics.records.Set(float64(z.Records()))
	h.ready.Store(true)
}

// Ready tells whether a zone built from a synced view (or set) is served.
func (h *Handler) Ready() bool { return h.ready.Load() }

// Run rebuilds the zone on every change of the view until ctx ends. It
// builds only from a synced view, so the first zone is complete.
func (h *Handler) Run(ctx context.Context) error {
	if h.view == nil {
		return errors.New("kubernetes: Run without a View")
	}
	var last time.Time
	var took time.Duration
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-h.view.Changes():
		}
		if !h.view.HasSynced() {
			continue // the view signals again once synced
		}
		if wait := rebuildGap(h.minGap, took) - time.Since(last); wait > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
		}
		last = time.Now()
		h.rebuild(h.view.Snapshot())
		took = time.Since(last)
	}
}

// rebuildGap is the least time between the starts of two builds: the
// configured minimum, and at least three times what the last build took,
// so that under constant churn (a controller writing thousands of
// EndpointSlices) rebuilding takes at most a third of a CPU and queries
// keep the rest; the zone then lags by about two build times.
func rebuildGap(minGap, lastBuild time.Duration) time.Duration {
	if minGap < 0 {
		return 0
	}
	return max(minGap, 3*lastBuild)
}

func (h *Handler) rebuild(s serviceview.Snapshot) {
	start := time.Now()
	cfg := h.zcfg
	cfg.Serial = h.serial()
	z := Build(s, cfg)
	d := time.Since(start)
	h.metrics.buildDuration.Observe(d.Seconds())
	h.metrics.builds.Inc()
	h.SetZone(z)
	h.log.Debug("cluster zone built", "services", len(s.Services), "records", z.Records(), "serial", z.Serial(), "duration", d)
}

// serial is the build time in seconds, kept increasing.
func (h *Handler) serial() uint32 {
	s := uint32(h.now().Unix())
	if old := h.zone.Load(); old != nil && s <= old.Serial() {
		s = old.Serial() + 1
	}
	return s
}

// ServeDNS answers a query for the zone, or passes it on.
func (h *Handler) ServeDNS(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	if len(r.Question) != 1 || r.Question[0].Qclass != dns.ClassINET {
		return plugin.Next(ctx, h.Name(), h.next, w, r)
	}
	q := r.Question[0]
	z := h.zone.Load()
	if z == nil {
		if isSubdomain(plugin.NewRequest(w, r).Name(), h.domain) {
			return dns.RcodeServerFailure, nil
		}
		return plugin.Next(ctx, h.Name(), h.next, w, r)
	}
	res := z.Lookup(q.Name, q.Qtype)
	if res.Fallthrough {
		return plugin.Next(ctx, h.Name(), h.next, w, r)
	}
	if !plugin.ClientWrite(res.Rcode) {
		return res.Rcode, nil
	}
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative, m.RecursionAvailable = res.Authoritative, true
	m.Rcode = res.Rcode
	m.Answer, m.Ns, m.Extra = res.Answer, res.Ns, res.Extra
	if t := h.outsideTarget(z, m, q.Qtype); t != "" {
		h.resolveOutside(ctx, w, r, m, t)
	}
	if err := w.WriteMsg(m); err != nil {
		return dns.RcodeServerFailure, fmt.Errorf("kubernetes: write reply for %s: %w", q.Name, err)
	}
	return m.Rcode, nil
}
