package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"rudder/bench/ingressbench"
)

// newBenchIngressCommand is `rudder bench-ingress`: rudder ingress against
// nginx as a plain reverse proxy and against the backends directly.
func newBenchIngressCommand() *cobra.Command {
	cfg := ingressbench.Config{}
	var quick bool
	cmd := &cobra.Command{
		Use:   "bench-ingress",
		Short: "Measure rudder ingress against nginx and the direct path (req/s, p50/p99, memory) with wrk",
		Long: `bench-ingress starts two rudder netexec backends on loopback, a rudder server holding an
Ingress for host ` + ingressbench.Host + ` routed to them, rudder ingress, and nginx with a generated
reverse-proxy configuration (upstream keep-alive); then wrk asks for 1 KiB responses with
keep-alive connections directly from the backends, through rudder ingress and through nginx,
in plain HTTP and over TLS, the paths alternating, --runs runs per path and connection count, pinned (proxy on CPU 0)
and unpinned. It writes ingress.json, INGRESS.md and the logs to --out.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfg.RudderBin == "" {
				self, err := os.Executable()
				if err != nil {
					return fmt.Errorf("find own binary: %w", err)
				}
				cfg.RudderBin = self
			}
			if quick {
				cfg = ingressbench.Quick(cfg)
			}
			cfg.Progress, cfg.TTY = os.Stderr, term.IsTerminal(int(os.Stderr.Fd()))
			if _, err := ingressbench.Run(cmd.Context(), cfg); err != nil {
				return err
			}
			fmt.Printf("ingress report: %s\n", filepath.Join(cfg.Defaults().Out, "INGRESS.md"))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Out, "out", "", "output directory (default bench/results/<date>)")
	f.DurationVar(&cfg.Duration, "duration", 0, "length of one wrk run (default 10s)")
	f.IntVar(&cfg.Runs, "runs", 0, "runs per path, mode and connection count (default 3)")
	f.IntSliceVar(&cfg.Connections, "connections", nil, "wrk connection counts (default 16,64,256)")
	f.IntVar(&cfg.Threads, "threads", 0, "wrk threads (default 2)")
	f.StringSliceVar(&cfg.Paths, "paths", nil, "paths to measure: direct, rudder, nginx, nginx-headers (nginx doing rudder's header work), rudder-tls, nginx-tls (both over TLS), nginx-nokeepalive (default all but the last)")
	f.StringSliceVar(&cfg.Modes, "modes", nil, "pinned (proxy CPU 0, wrk and backends CPU 1) and/or unpinned (default both)")
	f.StringVar(&cfg.RudderBin, "rudder", "", "rudder binary for the server, the backends and rudder ingress (default: this binary)")
	f.StringVar(&cfg.NginxBin, "nginx", "", "nginx binary (default /usr/sbin/nginx)")
	f.StringVar(&cfg.WrkBin, "wrk", "", "wrk binary (default wrk on PATH)")
	f.StringArrayVar(&cfg.IngressArgs, "rudder-ingress-arg", nil, "extra flag for rudder ingress (repeatable), e.g. --rudder-ingress-arg=--profiling")
	f.BoolVar(&quick, "quick", false, "a smoke test: one 2 s run at 64 connections, pinned only")
	return cmd
}
