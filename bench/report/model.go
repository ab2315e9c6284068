// Package report is the result model of `rudder bench` (results.json)
// and its renderings: REPORT.md and SVG charts.
package report

import (
	"slices"
	"time"
)

// Results is one `rudder bench` run: every sample, nothing aggregated.
type Results struct {
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// Command is the exact command line that produced the results.
	Command string  `json:"command"`
	Quick   bool    `json:"quick"`
	Runs    int     `json:"runs"`    // measured runs per path (after one warm-up)
	Seconds float64 `json:"seconds"` // length of one stream run
	Machine Machine `json:"machine"`
	Paths   []Path  `json:"paths"`
	Scaling []Scale `json:"scaling"`
	Skipped []Skip  `json:"skipped"`
}

// Machine describes where the numbers come from.
type Machine struct {
	CPUModel  string `json:"cpuModel"`
	Cores     int    `json:"cores"`
	Kernel    string `json:"kernel"`
	GoVersion string `json:"goVersion"`
	Rudder    string `json:"rudder"` // rudder version or commit
	// Pinning says how client and server were placed on CPUs, e.g.
	// "client CPU 1, server CPU 0" or "not pinned (1 CPU)".
	Pinning string `json:"pinning"`
}

// Path is one way for bytes to go, measured with every method.
type Path struct {
	// ID is stable and machine-friendly (e.g. "raw-veth", "pod-vxlan",
	// "clusterip-nftables"); Name is for people ("pod↔pod over VXLAN").
	ID   string `json:"id"`
	Name string `json:"name"`
	// Group is "baseline", "pod", "service" or "nodeport".
	Group string `json:"group"`
	// Versus is the ID of the path this one's ratio is computed against
	// besides raw veth (a ClusterIP path against the direct pod path of
	// the same placement); "" for none.
	Versus string `json:"versus,omitempty"`
	// Stream is TCP stream throughput in Gbit/s, one sample per run.
	Stream Samples `json:"streamGbps"`
	// CPUPerGB is CPU seconds (all cores) per GB moved, per stream run.
	CPUPerGB Samples `json:"cpuSecondsPerGB"`
	// RR and CRR are request/response and connect-request-close
	// latencies in microseconds, percentiles per run.
	RR  Latency `json:"rr"`
	CRR Latency `json:"crr"`
}

// Latency holds the percentiles of each run, in microseconds.
type Latency struct {
	P50 Samples `json:"p50us"`
	P90 Samples `json:"p90us"`
	P99 Samples `json:"p99us"`
	// Transactions per run, so a reader can judge the sample size.
	Transactions []int `json:"transactions"`
}

// Scale is one proxy backend at one service count.
type Scale struct {
	Backend  string `json:"backend"`
	Services int    `json:"services"`
	// SyncSeconds is the proxy's sync after one change with this many
	// services loaded, per run.
	SyncSeconds Samples `json:"syncSeconds"`
	// CRRP50 is connect-request-close p50 (µs) to one of the services.
	CRRP50 Samples `json:"crrP50us"`
}

// Skip is a path that could not run here, and why.
type Skip struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// Samples are one measurement per run.
type Samples []float64

// Median of the samples (0 when empty).
func (s Samples) Median() float64 {
	if len(s) == 0 {
		return 0
	}
	c := slices.Clone(s)
	slices.Sort(c)
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}

// Min of the samples (0 when empty).
func (s Samples) Min() float64 {
	if len(s) == 0 {
		return 0
	}
	return slices.Min(s)
}

// Max of the samples (0 when empty).
func (s Samples) Max() float64 {
	if len(s) == 0 {
		return 0
	}
	return slices.Max(s)
}

// Path returns the path with id, or nil.
func (r *Results) Path(id string) *Path {
	for i := range r.Paths {
		if r.Paths[i].ID == id {
			return &r.Paths[i]
		}
	}
	return nil
}
