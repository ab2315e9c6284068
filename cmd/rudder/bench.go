package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"rudder/bench/harness"
)

// newBenchCommand is `rudder bench`: packet-path throughput, latency and
// proxy scaling against the machine's own limits, in one run.
func newBenchCommand() *cobra.Command {
	cfg := harness.Config{}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure every packet path against the raw veth limit of this machine and write a report",
		Long: `bench builds its own topologies in network namespaces: loopback, a raw veth pair and a
plain bridge as baselines, then two 2-node lab clusters (vxlan + nftables, host-gw +
iptables) with pods. For each path it measures TCP stream throughput (iperf3), CPU seconds
per GB, request/response (RR) and connect-request-close (CRR) latency, and for each proxy
backend the sync time and CRR p50 at growing service counts. It writes results.json,
REPORT.md and SVG charts to --out.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			self, err := os.Executable()
			if err != nil {
				return err
			}
			cfg.RudderBin = self
			if cfg.CNIPlugin == "" {
				cfg.CNIPlugin = filepath.Join(filepath.Dir(self), "rudder-cni")
			}
			cfg.Command = "rudder " + strings.Join(os.Args[1:], " ")
			cfg.Progress, cfg.TTY = os.Stderr, term.IsTerminal(int(os.Stderr.Fd()))
			res, err := harness.Run(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			out := cfg.Out
			if out == "" {
				out = harness.Config{}.Defaults().Out
			}
			fmt.Printf("%d paths measured, %d skipped; report: %s\n", len(res.Paths), len(res.Skipped), filepath.Join(out, "REPORT.md"))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Out, "out", "", "output directory (default bench/results/<date>)")
	f.IntVar(&cfg.Runs, "runs", 0, "measured runs per path after a warm-up (default 5)")
	f.DurationVar(&cfg.Stream, "stream", 0, "length of one iperf3 stream run (default 5s)")
	f.DurationVar(&cfg.Latency, "latency", 0, "length of one RR or CRR run (default 2s)")
	f.IntSliceVar(&cfg.Services, "services", nil, "service counts of the scaling curve (default 10,1000,10000)")
	f.BoolVar(&cfg.Quick, "quick", false, "one short run of everything (under 90 s): a smoke test")
	f.StringVar(&cfg.CNIPlugin, "cni-plugin", "", "rudder-cni binary for the labs (default: next to rudder)")
	return cmd
}
