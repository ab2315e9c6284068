package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"rudder/bench/dnsbench"
)

// newBenchDNSCommand is `rudder bench-dns`: rudder dns against CoreDNS 1.14
// on the same apiserver, same machine, same query mix.
func newBenchDNSCommand() *cobra.Command {
	cfg := dnsbench.Config{}
	var quick bool
	cmd := &cobra.Command{
		Use:   "bench-dns",
		Short: "Measure rudder dns against CoreDNS (QPS, latency, memory) at 10,000 services",
		Long: `bench-dns starts a rudder server on loopback with --services Services, a stub upstream
resolver and both DNS servers (rudder dns and CoreDNS with its kubernetes plugin, built with
go install into a cache directory unless --coredns is given), then drives each with dnsperf:
maximum QPS (several runs, servers alternating, pinned and unpinned) and per-query latency
percentiles at a fixed rate. It writes dns.json, DNS.md and the server logs to --out.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			self, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find own binary: %w", err)
			}
			if cfg.RudderBin == "" {
				cfg.RudderBin = self
			}
			if quick {
				cfg = quickConfig(cfg)
			}
			cfg.Progress, cfg.TTY = os.Stderr, term.IsTerminal(int(os.Stderr.Fd()))
			if _, err := dnsbench.Run(cmd.Context(), cfg); err != nil {
				return err
			}
			fmt.Printf("dns report: %s\n", filepath.Join(cfg.Defaults().Out, "DNS.md"))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Out, "out", "", "output directory (default bench/results/<date>)")
	f.IntVar(&cfg.Services, "services", 0, "Services in the cluster (default 10000)")
	f.DurationVar(&cfg.Duration, "duration", 0, "length of one dnsperf run (default 10s)")
	f.IntVar(&cfg.Runs, "runs", 0, "max-QPS runs per server and mode (default 3)")
	f.StringVar(&cfg.CoreDNSBin, "coredns", "", "coredns binary (default: build "+dnsbench.CoreDNSVersion+" into the cache dir)")
	f.StringVar(&cfg.RudderBin, "rudder", "", "rudder binary for the server and rudder dns (default: this binary)")
	f.StringArrayVar(&cfg.RudderArgs, "rudder-dns-arg", nil, "extra flag for rudder dns (repeatable), e.g. --rudder-dns-arg=--profiling")
	f.StringSliceVar(&cfg.Servers, "servers", nil, "servers to measure: rudder, coredns (default both)")
	f.StringSliceVar(&cfg.Modes, "modes", nil, "pinned (server CPU 0, dnsperf CPU 1) and/or unpinned (default both)")
	f.IntVar(&cfg.LatencyQPS, "latency-qps", 0, "rate of the latency run (default half the lower median QPS)")
	f.BoolVar(&quick, "quick", false, "a smoke test: 500 services, one 2 s run, pinned only")
	return cmd
}

// quickConfig shrinks cfg to a smoke test, keeping what was set explicitly.
func quickConfig(cfg dnsbench.Config) dnsbench.Config {
	if cfg.Services == 0 {
		cfg.Services = 500
	}
	if cfg.Duration == 0 {
		cfg.Duration = 2e9
	}
	if cfg.Runs == 0 {
		cfg.Runs = 1
	}
	if len(cfg.Modes) == 0 {
		cfg.Modes = []string{dnsbench.ModePinned}
	}
	cfg.Namespaces = min(10, cfg.Services)
	cfg.MixSize = 5000
	return cfg
}
