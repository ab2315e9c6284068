package loadgen

import (
	"testing"
	"time"
)

func us(v ...int) []time.Duration {
	out := make([]time.Duration, len(v))
	for i, x := range v {
		out[i] = time.Duration(x) * time.Microsecond
	}
	return out
}

func TestSummarize(t *testing.T) {
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // 100..1, unsorted
	}
	cases := []struct {
		name string
		in   []time.Duration
		want Stats
	}{
		{"empty", nil, Stats{}},
		{"one", us(7), Stats{N: 1, P50: 7 * time.Microsecond, P90: 7 * time.Microsecond, P99: 7 * time.Microsecond, Mean: 7 * time.Microsecond, Max: 7 * time.Microsecond}},
		{"two", us(30, 10), Stats{N: 2, P50: 10 * time.Microsecond, P90: 30 * time.Microsecond, P99: 30 * time.Microsecond, Mean: 20 * time.Microsecond, Max: 30 * time.Microsecond}},
		{"ten", us(10, 9, 8, 7, 6, 5, 4, 3, 2, 1), Stats{N: 10, P50: 5 * time.Microsecond, P90: 9 * time.Microsecond, P99: 10 * time.Microsecond, Mean: 5500 * time.Nanosecond, Max: 10 * time.Microsecond}},
		{"hundred", us(hundred...), Stats{N: 100, P50: 50 * time.Microsecond, P90: 90 * time.Microsecond, P99: 99 * time.Microsecond, Mean: 50500 * time.Nanosecond, Max: 100 * time.Microsecond}},
		{"outlier", us(1, 1, 1, 1, 1, 1, 1, 1, 1, 1000), Stats{N: 10, P50: time.Microsecond, P90: time.Microsecond, P99: 1000 * time.Microsecond, Mean: 100900 * time.Nanosecond, Max: 1000 * time.Microsecond}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Summarize(c.in); got != c.want {
				t.Errorf("Summarize = %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestPercentileEdges(t *testing.T) {
	s := us(1, 2, 3, 4)
	cases := []struct {
		p    float64
		want time.Duration
	}{{0, time.Microsecond}, {-5, time.Microsecond}, {25, time.Microsecond}, {26, 2 * time.Microsecond}, {100, 4 * time.Microsecond}, {250, 4 * time.Microsecond}}
	for _, c := range cases {
		if got := Percentile(s, c.p); got != c.want {
			t.Errorf("Percentile(%v) = %v, want %v", c.p, got, c.want)
		}
	}
	if got := Percentile(nil, 50); got != 0 {
		t.Errorf("Percentile(nil) = %v, want 0", got)
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
	}{
		{"no target", Config{Mode: RR}},
		{"no port", Config{Target: "127.0.0.1", Mode: RR}},
		{"bad mode", Config{Target: "127.0.0.1:1", Mode: "stream"}},
		{"no mode", Config{Target: "127.0.0.1:1"}},
		{"negative duration", Config{Target: "127.0.0.1:1", Mode: RR, Duration: -time.Second}},
		{"negative warm-up", Config{Target: "127.0.0.1:1", Mode: CRR, Warmup: -time.Second}},
		{"negative timeout", Config{Target: "127.0.0.1:1", Mode: CRR, Timeout: -time.Second}},
		{"negative concurrency", Config{Target: "127.0.0.1:1", Mode: CRR, Concurrency: -1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Run(t.Context(), c.cfg); err == nil {
				t.Errorf("Run(%+v) succeeded, want a config error", c.cfg)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	cfg, err := Config{Target: "127.0.0.1:1", Mode: RR}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Duration != DefaultDuration || cfg.Timeout != DefaultTimeout || cfg.Concurrency != 1 || cfg.Warmup != 0 {
		t.Errorf("defaults: %+v", cfg)
	}
}

// TestPercentileNearestRank: the latency percentiles of the DNS benchmark
// (p99.9 of 1,000 samples is the 999th).
func TestPercentileNearestRank(t *testing.T) {
	lat := make([]time.Duration, 1000)
	for i := range lat {
		lat[i] = time.Duration(i + 1)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 500}, {99, 990}, {99.9, 999}, {100, 1000}, {0, 1}} {
		if got := Percentile(lat, c.p); got != c.want {
			t.Errorf("Percentile(%v) = %v, want %v", c.p, got, c.want)
		}
	}
}
