package report

import (
	"fmt"
	"strings"
)

// Chart file names, relative to the report's directory.
const (
	ThroughputChart = "throughput.svg"
	ScalingChart    = "crr-scaling.svg"
	LatencyChart    = "latency.svg"
)

// Markdown renders r as REPORT.md. Charts are referenced by their
// relative file names, only when r has data for them (as Charts
// writes them).
func Markdown(r *Results) string {
	if r == nil {
		return "# rudder bench\n\nNo results.\n"
	}
	var b strings.Builder
	header(&b, r)
	throughputTable(&b, r)
	latencyTable(&b, r)
	scalingTable(&b, r)
	aimsTable(&b, r)
	skippedTable(&b, r)
	return b.String()
}

func header(b *strings.Builder, r *Results) {
	date := "undated"
	if !r.Started.IsZero() {
		date = r.Started.UTC().Format("2006-01-02")
	}
	fmt.Fprintf(b, "# rudder bench — %s\n\n", date)
	if !r.Started.IsZero() && !r.Finished.IsZero() {
		fmt.Fprintf(b, "Run from %s to %s.\n\n",
			r.Started.UTC().Format("2006-01-02 15:04:05 UTC"),
			r.Finished.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	cmd := r.Command
	if cmd == "" {
		cmd = "(not recorded)"
	}
	fmt.Fprintf(b, "Command:\n\n```\n%s\n```\n\n", cmd)
	m := r.Machine
	b.WriteString("## Machine\n\n")
	fmt.Fprintf(b, "- CPU: %s\n", orDash(m.CPUModel))
	fmt.Fprintf(b, "- Cores: %s\n", orDash(count(m.Cores)))
	fmt.Fprintf(b, "- Kernel: %s\n", orDash(m.Kernel))
	fmt.Fprintf(b, "- Go: %s\n", orDash(m.GoVersion))
	fmt.Fprintf(b, "- rudder: %s\n", orDash(m.Rudder))
	fmt.Fprintf(b, "- Pinning: %s\n\n", orDash(m.Pinning))
	b.WriteString("## Method\n\n")
	quick := ""
	if r.Quick {
		quick = " This was a `--quick` run: a smoke test, not a measurement to quote."
	}
	fmt.Fprintf(b, "Every path gets one warm-up run, then %s measured runs. "+
		"Numbers are medians across runs with min–max in parentheses. "+
		"A TCP stream run lasts %s s. RR is request/response latency on one "+
		"connection, CRR is connect-request-close latency; their percentiles "+
		"are taken per run and the table shows the median of each across runs. "+
		"\"CPU s/GB\" is machine-wide busy CPU seconds (all cores) per GB moved. "+
		"Ratios are of medians, against the raw veth pair measured in the same run "+
		"(the physical limit for pod-to-pod on this machine).%s\n\n",
		orDash(count(r.Runs)), orDash(strings.TrimSuffix(num(r.Seconds, 1), ".0")), quick)
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return dash
	}
	return s
}

func count(n int) string {
	if n <= 0 {
		return ""
	}
	return num(float64(n), 0)
}

func throughputTable(b *strings.Builder, r *Results) {
	b.WriteString("## Throughput\n\n")
	if len(r.Paths) == 0 {
		b.WriteString("No paths were measured.\n\n")
		return
	}
	raw := r.Path(RawVethID)
	if raw == nil || len(raw.Stream) == 0 {
		b.WriteString("Raw veth was not measured in this run, so there are no ratios to it.\n\n")
	}
	if hasThroughput(r) {
		fmt.Fprintf(b, "![TCP stream throughput per path](%s)\n\n", ThroughputChart)
	}
	b.WriteString("| path | Gbit/s median (min–max) | / raw veth | / direct path | CPU s/GB |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, g := range groups(r) {
		fmt.Fprintf(b, "| **%s** | | | | |\n", cell(g.title))
		for _, p := range g.paths {
			vsRaw, vsDirect := dash, dash
			if raw != nil {
				vsRaw = ratioCell(p.Stream, raw.Stream)
			}
			if p.Versus != "" {
				if v := r.Path(p.Versus); v != nil {
					vsDirect = ratioCell(p.Stream, v.Stream) + " (vs " + pathName(v) + ")"
				} else {
					vsDirect = dash + " (" + p.Versus + " not measured)"
				}
			}
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", cell(pathName(p)),
				spread(p.Stream, 1, 2), vsRaw, cell(vsDirect), median(p.CPUPerGB, 1, 2))
		}
	}
	b.WriteString("\n")
}

func latencyTable(b *strings.Builder, r *Results) {
	b.WriteString("## Latency\n\n")
	if len(r.Paths) == 0 {
		b.WriteString("No paths were measured.\n\n")
		return
	}
	if hasLatency(r) {
		fmt.Fprintf(b, "![CRR latency per path](%s)\n\n", LatencyChart)
	}
	raw := r.Path(RawVethID)
	b.WriteString("Microseconds, median across runs.\n\n")
	b.WriteString("| path | RR p50 | RR p90 | RR p99 | CRR p50 | CRR p90 | CRR p99 | CRR p50 / raw veth |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	for _, p := range orderedPaths(r) {
		vsRaw := dash
		if raw != nil {
			vsRaw = ratioCell(p.CRR.P50, raw.CRR.P50)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", cell(pathName(p)),
			median(p.RR.P50, 1, 0), median(p.RR.P90, 1, 0), median(p.RR.P99, 1, 0),
			median(p.CRR.P50, 1, 0), median(p.CRR.P90, 1, 0), median(p.CRR.P99, 1, 0), vsRaw)
	}
	b.WriteString("\n")
}

func scalingTable(b *strings.Builder, r *Results) {
	b.WriteString("## Scaling with the number of services\n\n")
	if len(r.Scaling) == 0 {
		b.WriteString("Not measured.\n\n")
		return
	}
	if hasScaling(r) {
		fmt.Fprintf(b, "![CRR p50 versus service count](%s)\n\n", ScalingChart)
	}
	b.WriteString("| backend | services | sync after one change, ms | CRR p50 µs | CRR p50 / fewest services |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, be := range backends(r) {
		pts := scalesOf(r, be)
		var base Samples
		for _, s := range pts {
			if len(s.CRRP50) > 0 {
				base = s.CRRP50
				break
			}
		}
		for _, s := range pts {
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", cell(be), num(float64(s.Services), 0),
				spread(s.SyncSeconds, 1000, msDecimals(s.SyncSeconds)), spread(s.CRRP50, 1, 0), ratioCell(s.CRRP50, base))
		}
	}
	b.WriteString("\n")
}

func aimsTable(b *strings.Builder, r *Results) {
	b.WriteString("## Aims\n\n")
	b.WriteString("The aims of issue 7, set from measurements on this machine kind (2 vCPU).\n\n")
	b.WriteString("| ratio | aim | measured | verdict |\n")
	b.WriteString("|---|---|---|---|\n")
	for _, a := range Aims(r) {
		m := dash
		if a.Known {
			m = num(a.Measured, 2)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", cell(a.What), a.TargetText(), m, a.Verdict())
	}
	b.WriteString("\n")
}

func skippedTable(b *strings.Builder, r *Results) {
	b.WriteString("## Skipped\n\n")
	if len(r.Skipped) == 0 {
		b.WriteString("Nothing was skipped.\n")
		return
	}
	b.WriteString("| path | reason |\n|---|---|\n")
	for _, s := range r.Skipped {
		fmt.Fprintf(b, "| %s | %s |\n", cell(s.Name), cell(s.Reason))
	}
}

// msDecimals picks decimals for sync times in ms from their median:
// 0.42, 4.1, 182.
func msDecimals(s Samples) int {
	switch m := s.Median() * 1000; {
	case m >= 10:
		return 0
	case m >= 1:
		return 1
	}
	return 2
}
