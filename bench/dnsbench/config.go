// Package dnsbench measures `rudder dns` against CoreDNS 1.14 with its
// kubernetes plugin: both serve the same apiserver (a `rudder server`
// process holding 10,000 Services), both forward to the same stub upstream
// on loopback, and dnsperf sends both the same query mix. It reports
// throughput, latency percentiles and memory (RSS).
package dnsbench

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// CoreDNSVersion is the CoreDNS release built for the comparison.
const CoreDNSVersion = "v1.14.7"

// Server names as they appear in results.
const (
	ServerRudder  = "rudder"
	ServerCoreDNS = "coredns"
)

// Config says what to measure. Zero fields take the values of Defaults.
type Config struct {
	// RudderBin runs both `rudder server` and `rudder dns` (required).
	RudderBin string
	// CoreDNSBin is a coredns binary; empty: build CoreDNSVersion with
	// `go install` into CacheDir, or reuse the one built there before.
	CoreDNSBin string
	// RudderArgs are extra flags for `rudder dns` (experiments: cache
	// settings, --profiling).
	RudderArgs []string
	// CacheDir holds the built coredns (default $XDG_CACHE_HOME/rudder-bench).
	CacheDir string
	// Servers to measure, of ServerRudder and ServerCoreDNS (default both).
	Servers []string
	// Services is the number of Services in the cluster (default 10,000),
	// spread over Namespaces namespaces (default 100).
	Services   int
	Namespaces int
	// Headless is how many of the Services are headless, each with an
	// EndpointSlice of EndpointsPerHeadless ready endpoints (default 1% and 3).
	Headless             int
	EndpointsPerHeadless int
	// MixSize is the number of lines of the dnsperf query file (default 20,000).
	MixSize int
	// Duration of one dnsperf run (default 10s); Runs per server and
	// pinning mode (default 3).
	Duration time.Duration
	Runs     int
	// Clients and Outstanding are dnsperf's -c and -q (default 20 and 200).
	Clients     int
	Outstanding int
	// LatencyQPS is the fixed rate of the latency run; 0: half of the
	// lowest median maximum QPS measured in that mode.
	LatencyQPS int
	// Modes are "pinned" (server on CPU 0, dnsperf on CPU 1) and
	// "unpinned" (default both; pinned only on a single-CPU machine).
	Modes []string
	// Out receives dns.json, DNS.md, the query mix and the server logs.
	Out string
	// Progress receives progress lines; TTY rewrites them in place.
	Progress io.Writer
	TTY      bool
}

// Pinning modes.
const (
	ModePinned   = "pinned"
	ModeUnpinned = "unpinned"
)

// Defaults fills the zero fields of c.
func (c Config) Defaults() Config {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.Services, 10000)
	def(&c.Namespaces, 100)
	if c.Headless <= 0 {
		c.Headless = max(1, c.Services/100)
	}
	def(&c.EndpointsPerHeadless, 3)
	def(&c.MixSize, 20000)
	def(&c.Runs, 3)
	def(&c.Clients, 20)
	def(&c.Outstanding, 200)
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if len(c.Servers) == 0 {
		c.Servers = []string{ServerRudder, ServerCoreDNS}
	}
	if len(c.Modes) == 0 {
		c.Modes = []string{ModePinned, ModeUnpinned}
	}
	if c.CacheDir == "" {
		c.CacheDir = defaultCacheDir()
	}
	if c.Out == "" {
		c.Out = filepath.Join("bench", "results", time.Now().Format("2006-01-02"))
	}
	return c
}

func defaultCacheDir() string {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "rudder-bench")
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "rudder-bench")
	}
	return filepath.Join(os.TempDir(), "rudder-bench")
}

// Validate reports a Config that cannot run.
func (c Config) Validate() error {
	if c.RudderBin == "" {
		return fmt.Errorf("dnsbench: RudderBin is required")
	}
	if c.Headless > c.Services {
		return fmt.Errorf("dnsbench: %d headless services of %d", c.Headless, c.Services)
	}
	for _, s := range c.Servers {
		if s != ServerRudder && s != ServerCoreDNS {
			return fmt.Errorf("dnsbench: unknown server %q (want %s or %s)", s, ServerRudder, ServerCoreDNS)
		}
	}
	for _, m := range c.Modes {
		if m != ModePinned && m != ModeUnpinned {
			return fmt.Errorf("dnsbench: unknown mode %q (want %s or %s)", m, ModePinned, ModeUnpinned)
		}
	}
	return nil
}
