package dnsbench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"time"

	"rudder/bench/benchproc"
	"rudder/bench/loadgen"
	"rudder/bench/report"
)

// cpuPlan is where the server and dnsperf run in a mode.
type cpuPlan struct{ server, perf string }

func planFor(mode string) cpuPlan {
	if mode == ModePinned && runtime.NumCPU() >= 2 {
		return cpuPlan{server: "0", perf: "1"}
	}
	return cpuPlan{}
}

// measureMode starts every server with the mode's pinning, warms each up,
// runs the throughput rounds alternating the servers, then one fixed-rate
// latency run each, and stops them.
func (b *bench) measureMode(ctx context.Context, mode string) (ModeResult, error) {
	plan := planFor(mode)
	dir := filepath.Join(b.logDir, mode)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return ModeResult{}, fmt.Errorf("create %s: %w", dir, err)
	}
	var servers []*dnsServer
	defer func() {
		for _, s := range servers {
			b.ps.Stop(s.proc)
		}
	}()
	runs := make([]ServerRun, len(b.cfg.Servers))
	for i, name := range b.cfg.Servers {
		s, err := b.startAndWarm(ctx, mode, name, serverSpec{kubeconfig: b.kubeconfig, upstream: b.stub.addr, dir: dir, cpus: plan.server, extra: b.cfg.RudderArgs}, plan)
		if s != nil {
			servers = append(servers, s)
		}
		if err != nil {
			return ModeResult{}, err
		}
		runs[i] = ServerRun{Server: name}
		if runs[i].RSSLoadedMiB, runs[i].AnonLoadedMiB, err = memMiB(s); err != nil {
			return ModeResult{}, err
		}
	}
	b.compareOnce(ctx, servers)
	if err := b.throughputRounds(ctx, mode, plan, servers, runs); err != nil {
		return ModeResult{}, err
	}
	m := ModeResult{Mode: mode, LatencyQPS: b.cfg.LatencyQPS}
	for i := range runs {
		runs[i].QPSMedian = report.Samples(runs[i].QPS).Median()
		if b.cfg.LatencyQPS <= 0 && (m.LatencyQPS == 0 || int(runs[i].QPSMedian/2) < m.LatencyQPS) {
			m.LatencyQPS = max(1, int(runs[i].QPSMedian/2))
		}
	}
	for i, s := range servers {
		b.pr.Step("%s: latency run of %s at %d qps", mode, s.name, m.LatencyQPS)
		if err := b.latencyRun(ctx, s, plan, m.LatencyQPS, &runs[i]); err != nil {
			return ModeResult{}, err
		}
		var err error
		if runs[i].RSSAfterMiB, runs[i].AnonAfterMiB, err = memMiB(s); err != nil {
			return ModeResult{}, err
		}
		b.pr.Logf("%s %s: %.0f qps median %v, p50 %.3f ms, p99 %.3f ms at %d qps, RSS %.1f MiB (private %.1f)",
			mode, s.name, runs[i].QPSMedian, roundAll(runs[i].QPS), runs[i].P50Ms, runs[i].P99Ms, m.LatencyQPS, runs[i].RSSAfterMiB, runs[i].AnonAfterMiB)
	}
	m.Servers = runs
	return m, nil
}

// compareOnce checks, in the first mode only, that rudder and CoreDNS give
// the same answers to the mix (after warm-up, so both have loaded all).
func (b *bench) compareOnce(ctx context.Context, servers []*dnsServer) {
	if b.compared != nil || len(servers) != 2 {
		return
	}
	ports := map[string]int{}
	for _, s := range servers {
		ports[s.name] = s.port
	}
	b.pr.Step("comparing the answers of rudder and CoreDNS")
	c := compareAnswers(ctx, ports[ServerRudder], ports[ServerCoreDNS], b.mix, 2000)
	b.compared = &c
	if c.Differing > 0 {
		b.pr.Logf("%d of %d distinct queries answered differently, e.g. %s: rudder %q, CoreDNS %q",
			c.Differing, c.Checked, c.Mismatches[0].Query, c.Mismatches[0].Rudder, c.Mismatches[0].CoreDNS)
	}
}

// startAndWarm starts one server, waits until it serves every Service and
// warms its cache with a short dnsperf run.
func (b *bench) startAndWarm(ctx context.Context, mode, name string, sp serverSpec, plan cpuPlan) (*dnsServer, error) {
	b.pr.Step("%s: starting %s, waiting until it serves %d services", mode, name, b.cfg.Services)
	s, err := b.startServer(ctx, name, sp)
	if err != nil {
		return nil, err
	}
	b.pr.Step("%s: warming up %s", mode, name)
	if _, err := b.perf(s, plan, min(b.cfg.Duration, 3*time.Second)).run(ctx); err != nil {
		return s, fmt.Errorf("warm up %s: %w", name, err)
	}
	return s, nil
}

// throughputRounds runs dnsperf at maximum rate cfg.Runs times per server,
// alternating the order of the servers between rounds.
func (b *bench) throughputRounds(ctx context.Context, mode string, plan cpuPlan, servers []*dnsServer, runs []ServerRun) error {
	for round := range b.cfg.Runs {
		for k := range servers {
			i := k
			if round%2 == 1 {
				i = len(servers) - 1 - k
			}
			b.pr.Step("%s: max QPS run %d/%d of %s", mode, round+1, b.cfg.Runs, servers[i].name)
			st, err := b.perf(servers[i], plan, b.cfg.Duration).run(ctx)
			if err != nil {
				return err
			}
			r := &runs[i]
			r.QPS = append(r.QPS, st.QPS)
			r.Lost += st.Lost
			if r.Rcodes == nil {
				r.Rcodes, r.AvgLatencyMs = st.Rcodes, st.AvgLatency*1000
			}
		}
	}
	return nil
}

func (b *bench) startServer(ctx context.Context, name string, sp serverSpec) (*dnsServer, error) {
	var (
		s     *dnsServer
		ready string
		err   error
	)
	if name == ServerCoreDNS {
		s, ready, err = startCoreDNS(b.ps, b.coredns, sp)
	} else {
		s, ready, err = startRudderDNS(b.ps, b.cfg.RudderBin, sp)
	}
	if err != nil {
		return nil, err
	}
	if err := waitReady(ctx, s, ready, b.probe, 2*time.Minute); err != nil {
		b.ps.Stop(s.proc)
		return nil, err
	}
	return s, nil
}

// perf is a maximum-rate dnsperf run against s with the mix.
func (b *bench) perf(s *dnsServer, plan cpuPlan, d time.Duration) perfRun {
	threads := 1
	if plan.perf == "" {
		threads = min(2, runtime.NumCPU())
	}
	return perfRun{port: s.port, mix: b.mixFile, duration: d, clients: b.cfg.Clients, outstanding: b.cfg.Outstanding,
		threads: threads, cpus: plan.perf}
}

// latencyRun is one fixed-rate run of the in-process UDP generator,
// pinned like dnsperf; percentiles come from its per-query latencies.
func (b *bench) latencyRun(ctx context.Context, s *dnsServer, plan cpuPlan, qps int, r *ServerRun) error {
	if plan.perf != "" {
		cpu, _ := strconv.Atoi(plan.perf)
		restore, err := benchproc.PinSelf(cpu)
		if err != nil {
			return err
		}
		defer restore()
	}
	load := fixedRate{addr: "127.0.0.1:" + strconv.Itoa(s.port), packets: b.packets, rate: qps, duration: b.cfg.Duration, sockets: 4}
	res, err := load.run(ctx)
	if err != nil {
		return fmt.Errorf("latency run of %s: %w", s.name, err)
	}
	slices.Sort(res.Latencies)
	ms := func(p float64) float64 {
		return float64(loadgen.Percentile(res.Latencies, p)) / float64(time.Millisecond)
	}
	r.P50Ms, r.P90Ms, r.P99Ms, r.P999Ms = ms(50), ms(90), ms(99), ms(99.9)
	r.LatencyLost = res.Sent - res.Received
	r.LatencySent = res.Sent
	return nil
}

// memMiB is a server's VmRSS and RssAnon in MiB.
func memMiB(s *dnsServer) (rss, anon float64, err error) {
	m, err := benchproc.MemOf(s.proc.PID())
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", s.name, err)
	}
	return float64(m.RSS) / 1024, float64(m.Anon) / 1024, nil
}

func roundAll(xs []float64) []int {
	out := make([]int, len(xs))
	for i, x := range xs {
		out[i] = int(x + 0.5)
	}
	return out
}
