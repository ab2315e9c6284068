package proxier

import (
	"context"
	"fmt"
	"rudder/proxy/conntrack"
	"time"

	"rudder/proxy/healthcheck"
	"rudder/proxy/model"
	"rudder/proxy/serviceview"
)

// sync is the runner's sync function: snapshot → model → backend, then
// bookkeeping. A partial sync with nothing changed skips the backend.
func (p *Proxier) sync(ctx context.Context, full bool) error {
	start := p.cfg.Clock.Now()
	snap := p.cfg.Source.Snapshot()
	st := model.Build(snap.Services, snap.EndpointSlices, p.Node())
	changed := model.Diff(p.applied, st)
	if !full && len(changed) == 0 {
		p.metrics.syncs.WithLabelValues("skipped", mode(full)).Inc()
		p.succeeded(st, snap)
		return nil
	}
	err := p.cfg.Backend.Sync(ctx, st, changed, full)
	p.metrics.syncDuration.Observe(p.cfg.Clock.Since(start).Seconds())
	if err != nil {
		p.metrics.syncs.WithLabelValues("failure", mode(full)).Inc()
		return fmt.Errorf("%s sync (full=%v, %d changed): %w", p.cfg.Backend.Name(), full, len(changed), err)
	}
	p.metrics.syncs.WithLabelValues("success", mode(full)).Inc()
	p.flushConntrack(st)
	p.cfg.Logger.Debug("synced", "backend", p.cfg.Backend.Name(), "full", full,
		"changed", len(changed), "servicePorts", len(st.Services), "took", p.cfg.Clock.Since(start))
	p.succeeded(st, snap)
	return nil
}

// succeeded records an applied state: metrics, latency, health.
func (p *Proxier) succeeded(st *model.State, snap serviceview.Snapshot) {
	now := p.cfg.Clock.Now()
	p.applied = st
	p.metrics.lastSuccess.Set(float64(now.UnixNano()) / 1e9)
	p.metrics.servicePorts.Set(float64(len(st.Services)))
	n := 0
	for i := range st.Services {
		n += len(st.Services[i].Endpoints)
	}
	p.metrics.endpoints.Set(float64(n))
	if rc, ok := p.cfg.Backend.(RuleCounter); ok {
		p.metrics.rules.Reset()
		for kind, c := range rc.RuleCounts() {
			p.metrics.rules.WithLabelValues(kind).Set(float64(c))
		}
	}
	var delays []time.Duration
	p.triggers, delays = p.triggers.observe(snap.EndpointSlices, now)
	for _, d := range delays {
		p.metrics.programmingDelay.Observe(d.Seconds())
	}
	if p.cfg.Healthz != nil {
		p.cfg.Healthz.Synced()
	}
	if p.cfg.HealthServers != nil {
		if err := p.cfg.HealthServers.Update(healthChecks(st)); err != nil {
			p.cfg.Logger.Error("health check servers", "err", err)
		}
	}
}

// healthChecks is one entry per eTP=Local service with a health-check
// port; a multi-port service counts the most local ready endpoints any
// of its ports has.
func healthChecks(st *model.State) []healthcheck.Service {
	var out []healthcheck.Service
	index := map[uint16]int{}
	for i := range st.Services {
		sp := &st.Services[i]
		if !sp.ExternalPolicyLocal || sp.HealthCheckNodePort == 0 {
			continue
		}
		n := sp.LocalReadyEndpoints()
		if j, ok := index[sp.HealthCheckNodePort]; ok {
			out[j].LocalEndpoints = max(out[j].LocalEndpoints, n)
			continue
		}
		index[sp.HealthCheckNodePort] = len(out)
		out = append(out, healthcheck.Service{Name: sp.Name.NamespacedName, Port: sp.HealthCheckNodePort, LocalEndpoints: n})
	}
	return out
}

// flushConntrack deletes the conntrack entries the sync made stale.
// A failure is logged, not retried: the entries idle out eventually.
func (p *Proxier) flushConntrack(st *model.State) {
	if p.cfg.Conntrack == nil {
		return
	}
	f := conntrack.Stale(p.applied, st)
	if f.Empty() {
		return
	}
	n, err := p.cfg.Conntrack.Delete(f)
	if err != nil {
		p.cfg.Logger.Warn("delete stale conntrack entries", "endpoints", f.Endpoints, "udpServices", f.ServiceIPs,
			"tcpServices", f.TCPServiceIPs, "err", err)
		return
	}
	p.cfg.Logger.Debug("deleted stale conntrack entries", "count", n, "endpoints", f.Endpoints, "udpServices", f.ServiceIPs,
		"tcpServices", f.TCPServiceIPs)
}
