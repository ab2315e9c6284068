// Package harness is `rudder bench`: it builds its topologies in network
// namespaces (baselines by hand with lab/netns, rudder's paths as real lab
// clusters with pods), measures every path the same way (iperf3 stream
// with CPU per GB, RR and CRR latency with the built-in load generator),
// scales the proxy backends, and hands the samples to bench/report.
package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"rudder/bench/report"
	"rudder/bench/sysinfo"
	"rudder/lab/netns"

	"rudder/bench/progress"
)

// Config is one benchmark run.
type Config struct {
	// Out is the directory for results.json, REPORT.md and the charts.
	Out string
	// Runs is the number of measured runs per path, after one warm-up.
	Runs int
	// Stream is the length of one iperf3 run; Latency of one RR or CRR run.
	Stream, Latency time.Duration
	// Services are the service counts of the scaling curve.
	Services []int
	// Quick: one short run of everything (a smoke test).
	Quick bool
	// RudderBin and CNIPlugin are the binaries the labs run.
	RudderBin, CNIPlugin string
	// Command is recorded in the report.
	Command string
	// Progress receives the progress line (nil: none); TTY rewrites it.
	Progress io.Writer
	TTY      bool
}

// Defaults fills zero fields for a full or a quick run.
func (c Config) Defaults() Config {
	if c.Quick {
		c.Runs, c.Stream, c.Latency = 1, time.Second, 500*time.Millisecond
		if c.Services == nil {
			c.Services = []int{10, 100}
		}
	}
	if c.Runs == 0 {
		c.Runs = 5
	}
	if c.Stream == 0 {
		c.Stream = 5 * time.Second
	}
	if c.Latency == 0 {
		c.Latency = 2 * time.Second
	}
	if c.Services == nil {
		c.Services = []int{10, 1000, 10000}
	}
	if c.Out == "" {
		c.Out = filepath.Join("bench", "results", time.Now().Format("2006-01-02"))
	}
	return c
}

// Run measures everything and writes the results; a path that fails is
// recorded as skipped with its error, so one broken path does not lose
// the others.
func Run(ctx context.Context, cfg Config) (*report.Results, error) {
	cfg = cfg.Defaults()
	if os.Geteuid() != 0 {
		return nil, errors.New("rudder bench needs root (network namespaces, iperf3 pinned in them)")
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", cfg.Out, err)
	}
	client, server, pinning := sysinfo.Pinning(runtime.NumCPU())
	m := sysinfo.Machine()
	m.Pinning = pinning
	res := &report.Results{Started: time.Now().UTC(), Command: cfg.Command, Quick: cfg.Quick, Runs: cfg.Runs,
		Seconds: cfg.Stream.Seconds(), Machine: m}
	b := &bench{cfg: cfg, res: res, prefix: netns.RunPrefix("rdrb"), clientCPU: client, serverCPU: server,
		prog: progress.New(cfg.Progress, cfg.TTY, "bench", "")}
	defer b.prog.Done()
	defer netns.Cleanup(b.prefix) //nolint:errcheck // best effort after every path cleaned up itself
	b.baselines(ctx)
	b.labPaths(ctx, labSpec{overlay: "vxlan", proxy: "nftables", subnet: "198.18.246.0/24"})
	b.labPaths(ctx, labSpec{overlay: "host-gw", proxy: "iptables", subnet: "198.18.247.0/24"})
	b.skipUnavailable()
	res.Finished = time.Now().UTC()
	return res, b.write()
}

// bench is one run in progress.
type bench struct {
	cfg                  Config
	res                  *report.Results
	prefix               string
	clientCPU, serverCPU int
	prog                 *progress.Line
}

// skip records a path that could not be measured.
func (b *bench) skip(name string, err error) {
	b.res.Skipped = append(b.res.Skipped, report.Skip{Name: name, Reason: err.Error()})
	b.prog.Logf("skipped %s: %v", name, err)
}

// write stores results.json, the charts and REPORT.md.
func (b *bench) write() error {
	if err := report.WriteJSON(filepath.Join(b.cfg.Out, "results.json"), b.res); err != nil {
		return err
	}
	if _, err := report.Charts(b.cfg.Out, b.res); err != nil {
		return fmt.Errorf("charts: %w", err)
	}
	return os.WriteFile(filepath.Join(b.cfg.Out, "REPORT.md"), []byte(report.Markdown(b.res)), 0o644)
}
