package dnsbench

import (
	"fmt"
	"io"
	"strings"

	"rudder/bench/report"
)

// Result is everything one benchmark run measured; it is written as dns.json.
type Result struct {
	Date        string       `json:"date"`
	CPUs        int          `json:"cpus"`
	Services    int          `json:"services"`
	Namespaces  int          `json:"namespaces"`
	Headless    int          `json:"headless"`
	Mix         []KindCount  `json:"mix"`
	Duration    string       `json:"duration"`
	Runs        int          `json:"runs"`
	Clients     int          `json:"clients"`
	Outstanding int          `json:"outstanding"`
	Servers     []ServerInfo `json:"servers"`
	Modes       []ModeResult `json:"modes"`
	StubQueries int64        `json:"stub_queries"`
	// LoadStart and LoadEnd are /proc/loadavg's 1-minute figure before
	// and after: other work on the machine skews every number above.
	LoadStart string `json:"load_start"`
	LoadEnd   string `json:"load_end"`
	// Compared is the answer check between the servers (nil: one server).
	Compared *Comparison `json:"compared,omitempty"`
}

// ServerInfo names a server under test.
type ServerInfo struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Binary  string `json:"binary"`
}

// ModeResult is one pinning mode: every server measured the same way.
type ModeResult struct {
	Mode       string      `json:"mode"`
	LatencyQPS int         `json:"latency_qps"`
	Servers    []ServerRun `json:"servers"`
}

// ServerRun is one server in one mode.
type ServerRun struct {
	Server string `json:"server"`
	// Maximum throughput runs (dnsperf without -Q).
	QPS          []float64      `json:"qps"`
	QPSMedian    float64        `json:"qps_median"`
	Lost         int            `json:"lost"`
	AvgLatencyMs float64        `json:"avg_latency_ms"`
	Rcodes       map[string]int `json:"rcodes"`
	// Fixed-rate run of the in-process UDP generator, per-query latencies.
	LatencySent int     `json:"latency_sent"`
	P50Ms       float64 `json:"p50_ms"`
	P90Ms       float64 `json:"p90_ms"`
	P99Ms       float64 `json:"p99_ms"`
	P999Ms      float64 `json:"p999_ms"`
	LatencyLost int     `json:"latency_lost"`
	// VmRSS after the Services were loaded and after the runs.
	RSSLoadedMiB float64 `json:"rss_loaded_mib"`
	RSSAfterMiB  float64 `json:"rss_after_mib"`
	// RssAnon at the same moments: the private memory, without the
	// executable's mapped pages (both binaries are over 100 MB).
	AnonLoadedMiB float64 `json:"anon_loaded_mib"`
	AnonAfterMiB  float64 `json:"anon_after_mib"`
}

// find is the run of server in m, or nil.
func (m ModeResult) find(server string) *ServerRun {
	for i := range m.Servers {
		if m.Servers[i].Server == server {
			return &m.Servers[i]
		}
	}
	return nil
}

// WriteMarkdown writes the DNS section of REPORT.md.
func (r *Result) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## Cluster DNS: rudder dns against CoreDNS (%s services)\n\n", report.Thousands(r.Services))
	for _, s := range r.Servers {
		fmt.Fprintf(&b, "- %s: %s\n", s.Name, s.Version)
	}
	fmt.Fprintf(&b, "\nBoth servers watch the same `rudder server` (%s Services in %d namespaces, %d headless with %s), forward to the same stub upstream on 127.0.0.1 and cache (CoreDNS: `kubernetes ... ttl 5`, `cache 30`; rudder: its defaults, TTL 5 s, with the cache's TTL caps set to 30 s like `cache 30`). ",
		report.Thousands(r.Services), r.Namespaces, r.Headless, "their own EndpointSlices")
	fmt.Fprintf(&b, "QPS: dnsperf at maximum throughput (no -Q, -c %d, -q %d), %d runs of %s per server and mode, servers alternating; median (min–max). ",
		r.Clients, r.Outstanding, r.Runs, r.Duration)
	b.WriteString("p50/p99/p99.9: one run of the bench's own open-loop UDP generator (Go, miekg/dns-packed queries of the same mix, 4 sockets, every answer timed by message ID) at a fixed rate, the same for both servers (half the lower median QPS); not dnsperf -v, whose per-query printing inflates its own p99 several-fold. ")
	b.WriteString("Pinned: server on CPU 0, dnsperf and the generator on CPU 1; unpinned: the scheduler decides. RSS is VmRSS after the Services were loaded and after the runs; private is RssAnon (heap and stacks, without the executable's mapped pages).\n\n")
	b.WriteString("| mode | server | QPS median (min–max) | rudder/CoreDNS | fixed rate | p50 ms | p99 ms | p99.9 ms | lost | NXDOMAIN % | RSS loaded MiB | RSS after MiB | private loaded MiB | private after MiB |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, m := range r.Modes {
		for _, s := range m.Servers {
			q := report.Samples(s.QPS)
			lo, hi := q.Min(), q.Max()
			fmt.Fprintf(&b, "| %s | %s | %s (%s–%s) | %s | %s | %.3f | %.3f | %.3f | %d | %s | %.1f | %.1f | %.1f | %.1f |\n",
				m.Mode, s.Server, report.Thousands(int(s.QPSMedian)), report.Thousands(int(lo)), report.Thousands(int(hi)), ratioCell(m, s.Server),
				report.Thousands(m.LatencyQPS), s.P50Ms, s.P99Ms, s.P999Ms, s.Lost+s.LatencyLost, nxShare(s.Rcodes), s.RSSLoadedMiB, s.RSSAfterMiB,
				s.AnonLoadedMiB, s.AnonAfterMiB)
		}
	}
	b.WriteString("\n")
	b.WriteString(r.aimLines())
	b.WriteString("\nQuery mix (one file, same for every run):\n\n| kind | queries |\n| --- | --- |\n")
	for _, k := range r.Mix {
		fmt.Fprintf(&b, "| %s | %d |\n", k.Kind, k.Count)
	}
	b.WriteString(r.comparisonLines())
	fmt.Fprintf(&b, "\nThe stub upstream answered %d queries in all (the caches answer repeats). Load average (1 min) on this %d-CPU machine: %s before, %s after; anything else running skews these numbers.\n",
		r.StubQueries, r.CPUs, r.LoadStart, r.LoadEnd)
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("write dns report: %w", err)
	}
	return nil
}

// comparisonLines report whether both servers gave the same answers.
func (r *Result) comparisonLines() string {
	c := r.Compared
	if c == nil {
		return ""
	}
	if c.Differing == 0 {
		return fmt.Sprintf("\nSame answers: rudder and CoreDNS gave the same rcode and answer records (TTLs aside) to all %d distinct queries of the mix checked.\n", c.Checked)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nDifferent answers: %d of %d distinct queries of the mix (rcode and answer records, TTLs aside); the first ones:\n\n| query | rudder | CoreDNS |\n| --- | --- | --- |\n", c.Differing, c.Checked)
	for _, m := range c.Mismatches {
		fmt.Fprintf(&b, "| `%s` | `%s` | `%s` |\n", m.Query, cell(m.Rudder), cell(m.CoreDNS))
	}
	return b.String()
}

// cell keeps a table cell on one line and short.
func cell(s string) string {
	s = strings.NewReplacer("|", "\\|", "\t", " ", "\n", " ").Replace(s)
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}

func ratioCell(m ModeResult, server string) string {
	ru, cd := m.find(ServerRudder), m.find(ServerCoreDNS)
	if server != ServerRudder || ru == nil || cd == nil || cd.QPSMedian == 0 {
		return ""
	}
	return fmt.Sprintf("%.2f×", ru.QPSMedian/cd.QPSMedian)
}

// aimLines state the aim per mode: QPS ≥ 1.5× CoreDNS at a p99 no worse.
func (r *Result) aimLines() string {
	var b strings.Builder
	for _, m := range r.Modes {
		ru, cd := m.find(ServerRudder), m.find(ServerCoreDNS)
		if ru == nil || cd == nil || cd.QPSMedian == 0 {
			continue
		}
		ratio := ru.QPSMedian / cd.QPSMedian
		verdict := "met"
		if ratio < 1.5 || ru.P99Ms > cd.P99Ms {
			verdict = "not met"
		}
		fmt.Fprintf(&b, "Aim (%s): QPS ≥ 1.5× CoreDNS at a p99 no worse: %.2f×, p99 %.3f ms against %.3f ms: %s.\n",
			m.Mode, ratio, ru.P99Ms, cd.P99Ms, verdict)
	}
	return b.String()
}

func nxShare(rc map[string]int) string {
	total := 0
	for _, n := range rc {
		total += n
	}
	if total == 0 {
		return ""
	}
	return fmt.Sprintf("%.1f", 100*float64(rc["NXDOMAIN"])/float64(total))
}
