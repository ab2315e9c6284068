package ingressbench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"rudder/bench/benchproc"
	"rudder/bench/report"
)

// cpuPlan is where everything runs in a mode; empty strings are unpinned.
type cpuPlan struct {
	proxy string // rudder ingress or nginx (its workers)
	load  string // wrk, and the backends behind a proxy
	// directBackends is where the backends run on the direct path: the
	// CPU the proxy would have.
	directBackends string
	all            string
	procs          int // GOMAXPROCS of rudder and worker_processes of nginx
}

func planFor(mode string, cpus int) cpuPlan {
	all := "0"
	for i := 1; i < cpus; i++ {
		all += "," + strconv.Itoa(i)
	}
	if mode == ModePinned && cpus >= 2 {
		return cpuPlan{proxy: "0", load: "1", directBackends: "0", all: all, procs: 1}
	}
	return cpuPlan{all: all, procs: cpus}
}

// loadCPUs is how many CPUs wrk and the backends run on.
func (p cpuPlan) loadCPUs() int {
	if p.load == "" {
		return p.procs
	}
	return strings.Count(p.load, ",") + 1
}

// describe says what the plan does, for the report.
func (p cpuPlan) describe() string {
	if p.proxy == "" {
		return fmt.Sprintf("no pinning; rudder with GOMAXPROCS unset (%d), nginx with %d workers", p.procs, p.procs)
	}
	return fmt.Sprintf("the proxy on CPU %s (rudder GOMAXPROCS=1, nginx 1 worker), wrk and both backends on CPU %s; on the direct path the backends get CPU %s instead, the one the proxy would have, and wrk stays on CPU %s",
		p.proxy, p.load, p.directBackends, p.load)
}

// proxies are the proxies running in a mode, by path.
type proxies struct {
	rudder *rudderIngress
	nginx  *nginxProxy
}

// measureMode starts the proxies with the mode's pinning, warms every path
// up, runs the rounds and reads the proxies' memory.
func (b *bench) measureMode(ctx context.Context, mode string) (ModeResult, error) {
	plan := planFor(mode, runtime.NumCPU())
	dir := filepath.Join(b.logDir, mode)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return ModeResult{}, fmt.Errorf("create %s: %w", dir, err)
	}
	px, err := b.startProxies(ctx, mode, plan, dir)
	defer func() {
		if px.rudder != nil {
			b.ps.Stop(px.rudder.proc)
		}
		if px.nginx != nil {
			b.ps.Stop(px.nginx.proc)
		}
	}()
	if err != nil {
		return ModeResult{}, err
	}
	m := ModeResult{Mode: mode, Placement: plan.describe()}
	for _, path := range b.cfg.Paths {
		if err := checkBody(b.url(path, px), b.cfg.BodyBytes, b.cert.roots); err != nil {
			return m, fmt.Errorf("%s path: %w", path, err)
		}
		b.pr.Step("%s: warming up %s", mode, path)
		if _, err := b.wrk(path, px, plan, slices.Max(b.cfg.Connections), b.cfg.Warmup).run(ctx); err != nil {
			return m, fmt.Errorf("warm up %s: %w", path, err)
		}
	}
	for _, c := range b.cfg.Connections {
		for _, path := range b.cfg.Paths {
			m.Points = append(m.Points, Point{Path: path, Connections: c})
		}
		if err := b.rounds(ctx, mode, plan, px, c, m.Points[len(m.Points)-len(b.cfg.Paths):]); err != nil {
			return m, err
		}
	}
	m.Memory, err = b.memory(px)
	return m, err
}

// startProxies starts the proxies the paths need, pinned per plan.
func (b *bench) startProxies(ctx context.Context, mode string, plan cpuPlan, dir string) (proxies, error) {
	var px proxies
	if usesRudder(b.cfg.Paths) {
		b.pr.Step("%s: starting rudder ingress, waiting until it routes %s", mode, Host)
		gmp := 0
		if plan.proxy != "" {
			gmp = plan.procs
		}
		r, err := startRudderIngress(ctx, b.ps, b.cfg.RudderBin, b.kubeconfig, dir, plan.proxy, gmp, b.cfg.IngressArgs)
		px.rudder = r
		if err != nil {
			return px, err
		}
	}
	if b.cfg.usesNginx() {
		b.pr.Step("%s: starting nginx", mode)
		conf := nginxConf{Workers: plan.procs, Backends: b.backendAddrs(), Keepalive: nginxKeepalive(len(b.backends))}
		var err error
		if conf.Port, err = benchproc.FreeTCPPort(); err != nil {
			return px, err
		}
		if slices.Contains(b.cfg.Paths, PathNginxNoKeepalive) {
			if conf.NoKeepalivePort, err = benchproc.FreeTCPPort(); err != nil {
				return px, err
			}
		}
		if slices.Contains(b.cfg.Paths, PathNginxHeaders) {
			if conf.HeadersPort, err = benchproc.FreeTCPPort(); err != nil {
				return px, err
			}
		}
		if slices.Contains(b.cfg.Paths, PathNginxTLS) {
			if conf.TLSPort, err = benchproc.FreeTCPPort(); err != nil {
				return px, err
			}
			conf.CertFile, conf.KeyFile = b.cert.certFile, b.cert.keyFile
		}
		px.nginx, err = startNginx(ctx, b.ps, b.nginxBin, filepath.Join(b.tmp, "nginx-"+mode), dir, plan.proxy, conf)
		if err != nil {
			return px, err
		}
	}
	return px, nil
}

// rounds runs wrk cfg.Runs times per path at conns connections, the
// order of the paths reversed every other round; points are in
// cfg.Paths order.
func (b *bench) rounds(ctx context.Context, mode string, plan cpuPlan, px proxies, conns int, points []Point) error {
	n := len(b.cfg.Paths)
	for round := range b.cfg.Runs {
		for k := range n {
			i := k
			if round%2 == 1 {
				i = n - 1 - k
			}
			path := b.cfg.Paths[i]
			b.pr.Step("%s: %d connections, run %d/%d of %s", mode, conns, round+1, b.cfg.Runs, path)
			st, cpu, err := b.measured(ctx, path, px, plan, conns)
			if err != nil {
				return fmt.Errorf("%s at %d connections: %w", path, conns, err)
			}
			p := &points[i]
			p.addCPU(st, cpu, plan)
			p.RPS = append(p.RPS, st.RPS())
			p.P50Ms = append(p.P50Ms, st.P50Us/1000)
			p.P99Ms = append(p.P99Ms, st.P99Us/1000)
			p.Requests += int64(st.Requests)
			p.Errors += st.Errors()
		}
	}
	for _, p := range points {
		cpu := ""
		if len(p.ProxyCPUUs) > 0 {
			cpu = fmt.Sprintf(", proxy CPU %.1f µs/req", report.Samples(p.ProxyCPUUs).Median())
		}
		if l := p.loadSide(); l.UsPerReq > 0 {
			cpu += fmt.Sprintf(", backends+wrk %.1f µs/req", l.UsPerReq)
			if l.Busy > 0 {
				cpu += fmt.Sprintf(" (%.0f %% busy)", 100*l.Busy)
			}
		}
		b.pr.Logf("%-8s %4d conns %-17s %9.0f req/s (runs %s), p50 %.3f ms, p99 %.3f ms%s, %d errors",
			mode, conns, p.Path, p.RPSMedian(), joinRounded(p.RPS), p.P50(), p.P99(), cpu, p.Errors)
	}
	return nil
}

// runCPU is the CPU time the processes of one run used.
type runCPU struct {
	proxy, backends time.Duration // proxy: 0 on the direct path
}

// measured is one wrk run of path with the CPU time its proxy and the
// backends used (wrk's own is in the stats).
func (b *bench) measured(ctx context.Context, path string, px proxies, plan cpuPlan, conns int) (WrkStats, runCPU, error) {
	var proxy *benchproc.Proc
	switch {
	case path == PathRudder, path == PathRudderTLS:
		proxy = px.rudder.proc
	case path != PathDirect:
		proxy = px.nginx.proc
	}
	pids := make([]int, 0, len(b.backends)+1)
	for _, be := range b.backends {
		pids = append(pids, be.proc.PID())
	}
	if proxy != nil {
		pids = append(pids, proxy.PID())
	}
	before, err := cpuTimes(pids)
	if err != nil {
		return WrkStats{}, runCPU{}, err
	}
	st, err := b.wrk(path, px, plan, conns, b.cfg.Duration).run(ctx)
	if err != nil {
		return st, runCPU{}, err
	}
	after, err := cpuTimes(pids)
	if err != nil {
		return st, runCPU{}, err
	}
	var c runCPU
	for i := range b.backends {
		c.backends += after[i] - before[i]
	}
	if proxy != nil {
		c.proxy = after[len(pids)-1] - before[len(pids)-1]
	}
	return st, c, nil
}

// cpuTimes is the CPU time of each process tree.
func cpuTimes(pids []int) ([]time.Duration, error) {
	out := make([]time.Duration, len(pids))
	for i, pid := range pids {
		t, err := benchproc.TreeCPU(pid)
		if err != nil {
			return nil, err
		}
		out[i] = t
	}
	return out, nil
}

// url is where wrk sends path's requests (the direct path: the first
// backend, which the direct script overrides per thread).
func (b *bench) url(path string, px proxies) string {
	port := 0
	switch path {
	case PathDirect:
		port = b.backends[0].port
	case PathRudder:
		port = px.rudder.port
	case PathNginx:
		port = px.nginx.port
	case PathNginxNoKeepalive:
		port = px.nginx.noKeepalivePort
	case PathNginxHeaders:
		port = px.nginx.headersPort
	case PathRudderTLS:
		port = px.rudder.tlsPort
	case PathNginxTLS:
		port = px.nginx.tlsPort
	}
	scheme := "http"
	if isTLS(path) {
		scheme = "https"
	}
	return scheme + "://127.0.0.1:" + strconv.Itoa(port) + "/bytes/" + strconv.Itoa(b.cfg.BodyBytes)
}

// wrk is the wrk run of path, with the backends moved to where the path
// wants them first (pinned mode: CPU 0 when there is no proxy).
func (b *bench) wrk(path string, px proxies, plan cpuPlan, conns int, d time.Duration) placedRun {
	w := wrkRun{bin: b.wrkBin, url: b.url(path, px), script: b.proxyScript, threads: b.cfg.Threads,
		connections: conns, duration: d, cpus: plan.load}
	backendCPUs := plan.load
	if path == PathDirect {
		w.script, backendCPUs = b.directScript, plan.directBackends
	}
	if backendCPUs == "" {
		backendCPUs = plan.all
	}
	return placedRun{wrk: w, backends: b.backends, cpus: backendCPUs}
}

// placedRun pins the backends, then runs wrk.
type placedRun struct {
	wrk      wrkRun
	backends []*backend
	cpus     string
}

func (r placedRun) run(ctx context.Context) (WrkStats, error) {
	for _, be := range r.backends {
		if done, err := be.proc.Exited(); done {
			return WrkStats{}, err
		}
		if err := benchproc.Pin(be.proc.PID(), r.cpus); err != nil {
			return WrkStats{}, fmt.Errorf("place backend: %w", err)
		}
	}
	return r.wrk.run(ctx)
}

// memory reads the proxies' memory after the runs.
func (b *bench) memory(px proxies) ([]Memory, error) {
	var out []Memory
	add := func(path string, p *benchproc.Proc) error {
		m, err := benchproc.TreeMem(p.PID())
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, Memory{Path: path, Processes: m.Procs, RSSMiB: float64(m.RSS) / 1024, AnonMiB: float64(m.Anon) / 1024})
		return nil
	}
	if px.rudder != nil {
		if err := add(PathRudder, px.rudder.proc); err != nil {
			return nil, err
		}
	}
	if px.nginx != nil {
		if err := add(PathNginx, px.nginx.proc); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func joinRounded(xs []float64) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(int(x + 0.5))
	}
	return strings.Join(s, " ")
}
