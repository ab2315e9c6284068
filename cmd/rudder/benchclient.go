package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"rudder/bench/loadgen"
)

// newBenchClientCommand is the hidden `rudder bench-client`: the load
// generator end of `rudder bench`'s RR and CRR tests, run by the harness
// inside a pod's network namespace, pinned with taskset. It prints the
// loadgen.Result as one JSON object on stdout.
func newBenchClientCommand() *cobra.Command {
	cfg := loadgen.Config{}
	var mode string
	cmd := &cobra.Command{
		Use:    "bench-client",
		Short:  "Measure TCP request/response (rr) or connect-request-close (crr) latency against a line echo server",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Mode = loadgen.Mode(mode)
			res, err := loadgen.Run(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			b, err := json.Marshal(res)
			if err != nil {
				return fmt.Errorf("encode result: %w", err)
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), string(b))
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Target, "target", "", "echo server host:port, e.g. a `rudder netexec --tcp-port` (required)")
	f.StringVar(&mode, "mode", string(loadgen.RR), "rr (one connection, request/response) or crr (connect, request, close)")
	f.DurationVar(&cfg.Duration, "duration", loadgen.DefaultDuration, "measured time")
	f.DurationVar(&cfg.Warmup, "warmup", 500*time.Millisecond, "unrecorded warm-up before the measured time")
	f.IntVar(&cfg.Concurrency, "concurrency", 1, "parallel workers, one transaction at a time each")
	f.DurationVar(&cfg.Timeout, "timeout", loadgen.DefaultTimeout, "bound on one transaction")
	_ = cmd.MarkFlagRequired("target")
	return cmd
}
