// Package loadgen is rudder's built-in TCP load generator: request/response
// (RR) and connect-request-close (CRR) latency against a line echo server
// such as `rudder netexec --tcp-port`.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// Mode is a kind of transaction.
type Mode string

const (
	// RR keeps one connection per worker open and times each
	// request/response round trip on it.
	RR Mode = "rr"
	// CRR times connect, one request/response, and close, per transaction.
	// The close is abortive (SO_LINGER 0, an RST): see closeAbort.
	CRR Mode = "crr"
)

// Defaults applied by Run to zero Config fields.
const (
	DefaultDuration = 3 * time.Second
	DefaultTimeout  = 2 * time.Second
)

// Config describes one load run.
type Config struct {
	// Target is the echo server's host:port (required).
	Target string
	// Mode is RR or CRR (required).
	Mode Mode
	// Duration is how long transactions are measured; 0 is DefaultDuration.
	Duration time.Duration
	// Warmup runs transactions without recording them before the
	// measurement starts; 0 is none.
	Warmup time.Duration
	// Concurrency is the number of parallel workers, each doing one
	// transaction at a time; 0 is 1.
	Concurrency int
	// Timeout bounds one transaction (including its connect in CRR);
	// 0 is DefaultTimeout.
	Timeout time.Duration
}

// Result is what one run measured. Latencies are in microseconds, computed
// exactly from every successful transaction of the measured period.
type Result struct {
	Mode         Mode    `json:"mode"`
	Target       string  `json:"target"`
	Concurrency  int     `json:"concurrency"`
	Transactions int     `json:"transactions"`
	Errors       int     `json:"errors"`
	P50          float64 `json:"p50us"`
	P90          float64 `json:"p90us"`
	P99          float64 `json:"p99us"`
	Mean         float64 `json:"meanUs"`
	Max          float64 `json:"maxUs"`
	// Seconds is the length of the measured period; Rate is
	// Transactions/Seconds.
	Seconds float64 `json:"seconds"`
	Rate    float64 `json:"perSecond"`
	// FirstError is the first error seen (warm-up included), for diagnosis.
	FirstError string `json:"firstError,omitempty"`
}

// withDefaults validates cfg and fills in its defaults.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Target == "" {
		return cfg, errors.New("loadgen: a target host:port is required")
	}
	if _, _, err := net.SplitHostPort(cfg.Target); err != nil {
		return cfg, fmt.Errorf("loadgen: target %q: %w", cfg.Target, err)
	}
	if cfg.Mode != RR && cfg.Mode != CRR {
		return cfg, fmt.Errorf("loadgen: mode %q: want %q or %q", cfg.Mode, RR, CRR)
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{{"duration", &cfg.Duration, DefaultDuration}, {"warm-up", &cfg.Warmup, 0}, {"timeout", &cfg.Timeout, DefaultTimeout}} {
		if *d.v < 0 {
			return cfg, fmt.Errorf("loadgen: %s %s must not be negative", d.name, *d.v)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if cfg.Concurrency < 0 {
		return cfg, fmt.Errorf("loadgen: concurrency %d must not be negative", cfg.Concurrency)
	}
	cfg.Concurrency = max(cfg.Concurrency, 1)
	return cfg, nil
}

// Run generates load as cfg says and summarises it. Failed transactions
// (refused, reset, timed out, wrong answer) are counted in Errors; Run
// fails only on bad config, on ctx ending early, or when no transaction
// of the measured period succeeded.
func Run(ctx context.Context, cfg Config) (Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Result{}, err
	}
	start := time.Now()
	w := window{measure: start.Add(cfg.Warmup), end: start.Add(cfg.Warmup + cfg.Duration)}
	tallies := make([]tally, cfg.Concurrency)
	var wg sync.WaitGroup
	for i := range tallies {
		wg.Go(func() { runWorker(ctx, cfg, w, &tallies[i]) })
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("loadgen: %s run against %s stopped: %w", cfg.Mode, cfg.Target, err)
	}
	return summarize(cfg, w, tallies)
}

// summarize merges the workers' tallies into a Result.
func summarize(cfg Config, w window, tallies []tally) (Result, error) {
	var all []time.Duration
	res := Result{Mode: cfg.Mode, Target: cfg.Target, Concurrency: cfg.Concurrency}
	for _, t := range tallies {
		all = append(all, t.samples...)
		res.Errors += t.errors
		if res.FirstError == "" && t.firstErr != nil {
			res.FirstError = t.firstErr.Error()
		}
	}
	st := Summarize(all)
	res.Transactions = st.N
	res.P50, res.P90, res.P99 = micros(st.P50), micros(st.P90), micros(st.P99)
	res.Mean, res.Max = micros(st.Mean), micros(st.Max)
	res.Seconds = w.end.Sub(w.measure).Seconds()
	res.Rate = float64(res.Transactions) / res.Seconds
	if res.Transactions == 0 {
		return res, fmt.Errorf("loadgen: no %s transaction against %s succeeded (%d errors, first: %s)",
			cfg.Mode, cfg.Target, res.Errors, res.FirstError)
	}
	return res, nil
}
