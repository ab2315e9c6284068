package ingressbench

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"rudder/bench/report"
)

// Result is everything one benchmark run measured; it is written as
// ingress.json.
type Result struct {
	Date        string   `json:"date"`
	CPUs        int      `json:"cpus"`
	Duration    string   `json:"duration"`
	Runs        int      `json:"runs"`
	Threads     int      `json:"threads"`
	BodyBytes   int      `json:"body_bytes"`
	Connections []int    `json:"connections"`
	Paths       []string `json:"paths"`
	// Versions of rudder, nginx and wrk.
	Versions map[string]string `json:"versions"`
	// NginxKeepalive is nginx's idle upstream connection cache per
	// worker (its keepalive directive).
	NginxKeepalive int `json:"nginx_keepalive"`
	// IngressArgs are the extra flags rudder ingress ran with.
	IngressArgs []string     `json:"ingress_args,omitempty"`
	Modes       []ModeResult `json:"modes"`
	// LoadStart and LoadEnd are /proc/loadavg's 1-minute figure before
	// and after: other work on the machine skews every number.
	LoadStart string `json:"load_start"`
	LoadEnd   string `json:"load_end"`
}

// ModeResult is one pinning mode: every path measured the same way.
type ModeResult struct {
	Mode string `json:"mode"`
	// Placement says which CPUs ran what.
	Placement string   `json:"placement"`
	Points    []Point  `json:"points"`
	Memory    []Memory `json:"memory"`
}

// Point is one path at one connection count: one sample per run.
type Point struct {
	Path        string    `json:"path"`
	Connections int       `json:"connections"`
	RPS         []float64 `json:"rps"`
	P50Ms       []float64 `json:"p50_ms"`
	P99Ms       []float64 `json:"p99_ms"`
	// ProxyCPUUs is the proxy's CPU time (user and system, all its
	// threads and processes) per request in µs, per run; empty on the
	// direct path. It depends less on the other load of the machine
	// than req/s.
	ProxyCPUUs []float64 `json:"proxy_cpu_us_per_request,omitempty"`
	// BackendCPUUs and WrkCPUUs are what the backends (both) and wrk
	// used per request in µs, per run: the cost a path's requests put
	// on the load side.
	BackendCPUUs []float64 `json:"backend_cpu_us_per_request,omitempty"`
	WrkCPUUs     []float64 `json:"wrk_cpu_us_per_request,omitempty"`
	// Busy is, per run, the share of the load side's CPUs that the
	// measured processes kept busy: pinned, the CPU of wrk and the
	// backends (not measured on the direct path, where they are split);
	// unpinned, all CPUs, the proxy included. Near 1 the load side, not
	// the proxy, bounds req/s.
	Busy     []float64 `json:"busy,omitempty"`
	Requests int64     `json:"requests"`
	// Errors are wrk's socket errors, timeouts and non-2xx/3xx answers.
	Errors int `json:"errors"`
}

// Memory is a proxy's resident memory after the runs of a mode, summed
// over its processes (nginx: master and workers).
type Memory struct {
	Path      string  `json:"path"`
	Processes int     `json:"processes"`
	RSSMiB    float64 `json:"rss_mib"`
	AnonMiB   float64 `json:"anon_mib"`
}

// addCPU adds one run's CPU figures.
func (p *Point) addCPU(st WrkStats, c runCPU, plan cpuPlan) {
	if st.Requests <= 0 {
		return
	}
	perReq := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 / st.Requests }
	if c.proxy > 0 {
		p.ProxyCPUUs = append(p.ProxyCPUUs, perReq(c.proxy))
	}
	p.BackendCPUUs = append(p.BackendCPUUs, perReq(c.backends))
	p.WrkCPUUs = append(p.WrkCPUUs, perReq(st.CPU))
	wall := time.Duration(st.DurationUs) * time.Microsecond
	switch {
	case plan.load == "":
		p.Busy = append(p.Busy, float64(c.proxy+c.backends+st.CPU)/float64(wall)/float64(plan.procs))
	case p.Path != PathDirect:
		p.Busy = append(p.Busy, float64(c.backends+st.CPU)/float64(wall)/float64(plan.loadCPUs()))
	}
}

// RPSMedian is the median req/s of the runs.
func (p Point) RPSMedian() float64 { return report.Samples(p.RPS).Median() }

// P50 is the median of the runs' p50 latencies in ms.
func (p Point) P50() float64 { return report.Samples(p.P50Ms).Median() }

// P99 is the median of the runs' p99 latencies in ms.
func (p Point) P99() float64 { return report.Samples(p.P99Ms).Median() }

// find is the point of path at conns, or nil.
func (m ModeResult) find(path string, conns int) *Point {
	for i := range m.Points {
		if m.Points[i].Path == path && m.Points[i].Connections == conns {
			return &m.Points[i]
		}
	}
	return nil
}

// ratio is path's median req/s over other's at conns, ok false when
// either is missing or zero.
func (m ModeResult) ratio(path, other string, conns int) (float64, bool) {
	a, b := m.find(path, conns), m.find(other, conns)
	if a == nil || b == nil || b.RPSMedian() == 0 || len(a.RPS) == 0 {
		return 0, false
	}
	return a.RPSMedian() / b.RPSMedian(), true
}

// WriteMarkdown writes the ingress section of REPORT.md.
func (r *Result) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("## Ingress: rudder ingress against nginx as a reverse proxy, and against no proxy\n\n")
	for _, k := range []string{"rudder", "nginx", "wrk"} {
		if v, ok := r.Versions[k]; ok {
			fmt.Fprintf(&b, "- %s: %s\n", k, v)
		}
	}
	fmt.Fprintf(&b, "\nwrk (%d threads, keep-alive HTTP/1.1, `Host: %s`) asks for %s-byte responses (`/bytes/%d`) from two `rudder netexec` backends on 127.0.0.1 (GOMAXPROCS=1 each): ",
		r.Threads, Host, report.Thousands(r.BodyBytes), r.BodyBytes)
	b.WriteString("**direct** (wrk's threads split over the two backends), through **rudder** ingress (an Ingress with host and path `/` Prefix to a Service whose two EndpointSlices list the backends; access log off, its defaults otherwise")
	if len(r.IngressArgs) > 0 {
		fmt.Fprintf(&b, ", and `%s`", strings.Join(r.IngressArgs, " "))
	}
	b.WriteString(") ")
	fmt.Fprintf(&b, "and through **nginx** configured as a plain reverse proxy: an `upstream` with both backends and `keepalive %d` (idle upstream connections kept per worker, as many as rudder's pools keep), `proxy_http_version 1.1`, `proxy_set_header Connection \"\"`, `proxy_set_header Host $host`, access log off, `keepalive_requests` raised to 1,000,000 on both sides so neither proxy closes connections the other keeps", r.NginxKeepalive)
	if slices.Contains(r.Paths, PathNginxNoKeepalive) {
		b.WriteString("; **nginx-nokeepalive** is the same without `keepalive`, a new upstream connection per request")
	}
	if slices.Contains(r.Paths, PathNginxHeaders) {
		b.WriteString("; **nginx-headers** is the same nginx doing the header work rudder does, as ingress-nginx does: X-Forwarded-For, X-Forwarded-Proto, X-Forwarded-Host, X-Forwarded-Port, X-Real-IP and X-Request-ID to the backend, X-Request-ID in the response (the aim is judged against plain **nginx**)")
	}
	if slices.Contains(r.Paths, PathRudderTLS) || slices.Contains(r.Paths, PathNginxTLS) {
		b.WriteString("; **rudder-tls** and **nginx-tls** are the same over TLS (HTTP/1.1, keep-alive, so a handshake per connection, not per request; wrk sends 127.0.0.1 as the server name, which no Ingress names, so both serve their default certificate, the same ECDSA P-256 one: rudder's `--default-ssl-certificate` and the Ingress's TLS Secret, nginx's `ssl_certificate`), TLS 1.3 with AES-128-GCM on both (nginx told to prefer it, as Go does), nginx doing the header work of nginx-headers; their \"vs nginx\" column is against **nginx-tls**")
	}
	fmt.Fprintf(&b, ". %d run(s) of %s per path and connection count, the paths alternating run by run (order reversed every other round) after a warm-up; req/s is the median (min–max) of the runs, p50/p99 the medians of the runs' wrk percentiles (closed loop: wrk waits for each answer, so these are latencies at saturation). ", r.Runs, r.Duration)
	b.WriteString("Ratios are of median req/s. Proxy CPU is the CPU time (user and system, all threads; nginx: master and workers) the proxy used during a run divided by the requests of the run, median of the runs: the cost of a request, less sensitive than req/s to other work on the machine. Backends and wrk CPU are the same for both backends together and for wrk: what a path's requests cost the load side. Busy is the share of the load side's CPUs the measured processes kept busy (pinned: the CPU of wrk and the backends, not on the direct path where they are apart; unpinned: both CPUs, the proxy included); near 100 % the load side, not the proxy, bounds req/s.\n\n")
	for _, m := range r.Modes {
		fmt.Fprintf(&b, "%s: %s.\n\n", m.Mode, m.Placement)
	}
	b.WriteString("| mode | connections | path | req/s median (min–max) | p50 ms | p99 ms | vs nginx | vs direct | proxy CPU µs/req | backends µs/req | wrk µs/req | busy | errors |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, m := range r.Modes {
		for _, c := range r.Connections {
			for _, path := range r.Paths {
				p := m.find(path, c)
				if p == nil {
					continue
				}
				fmt.Fprintf(&b, "| %s | %d | %s | %s | %.3f | %.3f | %s | %s | %s | %s | %s | %s | %d |\n",
					m.Mode, c, path, spread(p.RPS), p.P50(), p.P99(), ratioCell(m, path, baseline(path), c), ratioCell(m, path, PathDirect, c),
					cpuCell(p.ProxyCPUUs), cpuCell(p.BackendCPUUs), cpuCell(p.WrkCPUUs), percentCell(p.Busy), p.Errors)
			}
		}
	}
	b.WriteString("\n")
	b.WriteString(r.aimLines())
	b.WriteString(r.tlsLines())
	b.WriteString(r.memoryLines())
	fmt.Fprintf(&b, "\nLoad average (1 min) on this %d-CPU machine: %s before, %s after; anything else running skews these numbers.\n", r.CPUs, r.LoadStart, r.LoadEnd)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write ingress report: %w", err)
	}
	return nil
}

// spread is "median (min–max)" of req/s, one sample alone.
func spread(xs []float64) string {
	s := report.Samples(xs)
	switch len(s) {
	case 0:
		return "–"
	case 1:
		return report.Thousands(int(s[0] + 0.5))
	}
	return fmt.Sprintf("%s (%s–%s)", report.Thousands(int(s.Median()+0.5)), report.Thousands(int(s.Min()+0.5)), report.Thousands(int(s.Max()+0.5)))
}

func cpuCell(us []float64) string {
	if len(us) == 0 {
		return ""
	}
	return fmt.Sprintf("%.1f", report.Samples(us).Median())
}

func percentCell(xs []float64) string {
	if len(xs) == 0 {
		return ""
	}
	return fmt.Sprintf("%.0f %%", 100*report.Samples(xs).Median())
}

func ratioCell(m ModeResult, path, other string, conns int) string {
	if path == other {
		return ""
	}
	x, ok := m.ratio(path, other, conns)
	if !ok {
		return ""
	}
	return fmt.Sprintf("%.2f×", x)
}

// Verdicts are the aim per mode and connection count: rudder's req/s ≥
// 1.0× nginx's with a p99 no worse. Missing paths give none.
func (r *Result) Verdicts() []Verdict {
	var out []Verdict
	for _, m := range r.Modes {
		for _, c := range r.Connections {
			ru, ng := m.find(PathRudder, c), m.find(PathNginx, c)
			x, ok := m.ratio(PathRudder, PathNginx, c)
			if !ok {
				continue
			}
			v := Verdict{Mode: m.Mode, Connections: c, Ratio: x, RudderP99: ru.P99(), NginxP99: ng.P99()}
			v.Met = x >= 1.0 && v.RudderP99 <= v.NginxP99
			if len(ru.ProxyCPUUs) > 0 && len(ng.ProxyCPUUs) > 0 {
				v.RudderCPUUs, v.NginxCPUUs = report.Samples(ru.ProxyCPUUs).Median(), report.Samples(ng.ProxyCPUUs).Median()
			}
			v.RudderLoad, v.NginxLoad = ru.loadSide(), ng.loadSide()
			if d, ok := m.ratio(PathRudder, PathDirect, c); ok {
				v.VsDirect = d
			}
			if h, ok := m.ratio(PathRudder, PathNginxHeaders, c); ok {
				v.VsNginxHeaders = h
			}
			out = append(out, v)
		}
	}
	return out
}

// Verdict is the aim at one point.
type Verdict struct {
	Mode            string
	Connections     int
	Ratio, VsDirect float64
	// VsNginxHeaders is rudder's req/s over nginx-headers' (0: not run).
	VsNginxHeaders      float64
	RudderP99, NginxP99 float64
	// RudderCPUUs and NginxCPUUs are the proxies' CPU µs per request
	// (0: not measured).
	RudderCPUUs, NginxCPUUs float64
	// RudderLoad and NginxLoad are what the load side did on each path.
	RudderLoad, NginxLoad LoadSide
	Met                   bool
}

// LoadSide is what a path's requests cost the load side, medians of the
// runs.
type LoadSide struct {
	Busy     float64 // share of its CPUs busy (0: not measured)
	UsPerReq float64 // backends' and wrk's CPU µs per request
}

// loadSide is p's load-side figures.
func (p *Point) loadSide() LoadSide {
	var l LoadSide
	if len(p.Busy) > 0 {
		l.Busy = report.Samples(p.Busy).Median()
	}
	if len(p.BackendCPUUs) > 0 && len(p.WrkCPUUs) > 0 {
		l.UsPerReq = report.Samples(p.BackendCPUUs).Median() + report.Samples(p.WrkCPUUs).Median()
	}
	return l
}

// saturated is the busy share from which the load side, not the proxy,
// is taken to bound req/s.
const saturated = 0.9

func (r *Result) aimLines() string {
	vs := r.Verdicts()
	if len(vs) == 0 {
		return "Aim (rudder ≥ 1.0× nginx's req/s with a p99 no worse): not measured (rudder or nginx missing).\n"
	}
	var b strings.Builder
	met := 0
	for _, v := range vs {
		word := "met"
		if v.Met {
			met++
		} else {
			word = "not met"
		}
		direct := ""
		if v.VsDirect > 0 {
			direct = fmt.Sprintf("; %.2f× direct (overhead %.0f%%)", v.VsDirect, 100*(1-v.VsDirect))
		}
		if v.VsNginxHeaders > 0 {
			direct += fmt.Sprintf("; %.2f× nginx-headers", v.VsNginxHeaders)
		}
		cpu := ""
		if v.RudderCPUUs > 0 && v.NginxCPUUs > 0 {
			cpu = fmt.Sprintf("; CPU per request %.1f µs against %.1f µs", v.RudderCPUUs, v.NginxCPUUs)
		}
		fmt.Fprintf(&b, "- %s, %d connections: %.2f× nginx, p99 %.3f ms against %.3f ms: %s%s%s%s.\n", v.Mode, v.Connections, v.Ratio, v.RudderP99, v.NginxP99, word, direct, cpu, v.bound())
	}
	return fmt.Sprintf("Aim: rudder ≥ 1.0× nginx's req/s with a p99 no worse: met at %d of %d points.\n\n", met, len(vs)) + b.String()
}

// bound says, when the load side was saturated on both paths, that req/s
// there follows what a request costs the load side.
func (v Verdict) bound() string {
	ru, ng := v.RudderLoad, v.NginxLoad
	if ru.Busy < saturated || ng.Busy < saturated || ru.UsPerReq == 0 || ng.UsPerReq == 0 {
		return ""
	}
	if v.Mode == ModeUnpinned {
		if v.RudderCPUUs == 0 || v.NginxCPUUs == 0 {
			return ""
		}
		return fmt.Sprintf("; all CPUs %.0f %% / %.0f %% busy, so req/s follows what a request costs the proxy, the backends and wrk together: %.1f µs through rudder against %.1f µs through nginx",
			100*ru.Busy, 100*ng.Busy, v.RudderCPUUs+ru.UsPerReq, v.NginxCPUUs+ng.UsPerReq)
	}
	return fmt.Sprintf("; the CPU of wrk and the backends %.0f %% / %.0f %% busy, so req/s follows what a request costs there: %.1f µs through rudder against %.1f µs through nginx",
		100*ru.Busy, 100*ng.Busy, ru.UsPerReq, ng.UsPerReq)
}

func (r *Result) memoryLines() string {
	var b strings.Builder
	for _, m := range r.Modes {
		for _, mem := range m.Memory {
			if b.Len() == 0 {
				b.WriteString("\nMemory of the proxies after the runs (VmRSS; private is RssAnon, without mapped executable pages; nginx: master and workers summed):\n\n| mode | proxy | processes | RSS MiB | private MiB |\n| --- | --- | --- | --- | --- |\n")
			}
			fmt.Fprintf(&b, "| %s | %s | %d | %.1f | %.1f |\n", m.Mode, mem.Path, mem.Processes, mem.RSSMiB, mem.AnonMiB)
		}
	}
	return b.String()
}

// tlsLines compare rudder-tls with nginx-tls per point (no aim: the
// issue sets it for plain HTTP).
func (r *Result) tlsLines() string {
	var b strings.Builder
	for _, m := range r.Modes {
		for _, c := range r.Connections {
			ru, ng := m.find(PathRudderTLS, c), m.find(PathNginxTLS, c)
			x, ok := m.ratio(PathRudderTLS, PathNginxTLS, c)
			if !ok {
				continue
			}
			fmt.Fprintf(&b, "- %s, %d connections: %.2f× nginx-tls, p99 %.3f ms against %.3f ms", m.Mode, c, x, ru.P99(), ng.P99())
			if len(ru.ProxyCPUUs) > 0 && len(ng.ProxyCPUUs) > 0 {
				fmt.Fprintf(&b, "; CPU per request %.1f µs against %.1f µs", report.Samples(ru.ProxyCPUUs).Median(), report.Samples(ng.ProxyCPUUs).Median())
			}
			b.WriteString(".\n")
		}
	}
	if b.Len() == 0 {
		return ""
	}
	return "\nOver TLS (no aim; the issue sets it for plain HTTP):\n\n" + b.String()
}
