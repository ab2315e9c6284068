// Package ingressbench measures `rudder ingress` against Debian's nginx as
// a plain reverse proxy and against no proxy at all: wrk drives keep-alive
// HTTP/1.1 requests for 1 KiB responses from two `rudder netexec`
// backends, directly, through rudder ingress (configured by an Ingress on a
// `rudder server` process) and through nginx (a generated nginx.conf with
// the same two backends), and through both over TLS (the same
// certificate, the same cipher), the paths alternating run by run. It
// reports requests/s, latency p50/p99, CPU per request and the proxies'
// memory.
package ingressbench

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"
)

// The paths a request can take, as they appear in results.
const (
	// PathDirect is wrk to the backends, no proxy.
	PathDirect = "direct"
	// PathRudder is wrk to rudder ingress to the backends.
	PathRudder = "rudder"
	// PathNginx is wrk to nginx (upstream keep-alive) to the backends.
	PathNginx = "nginx"
	// PathNginxNoKeepalive is nginx opening a new upstream connection
	// per request (its default without a keepalive directive).
	PathNginxNoKeepalive = "nginx-nokeepalive"
	// PathNginxHeaders is nginx with upstream keep-alive doing an
	// ingress's header work, as rudder does: X-Forwarded-For, -Proto,
	// -Host, -Port, X-Real-IP and X-Request-ID up, X-Request-ID down.
	PathNginxHeaders = "nginx-headers"
	// PathRudderTLS is wrk over TLS (HTTP/1.1, keep-alive) to rudder
	// ingress's HTTPS listener.
	PathRudderTLS = "rudder-tls"
	// PathNginxTLS is nginx terminating TLS with the same certificate,
	// doing the header work of PathNginxHeaders (with
	// X-Forwarded-Proto https): the baseline of PathRudderTLS.
	PathNginxTLS = "nginx-tls"
)

// baseline is the path a path's "vs nginx" ratio is taken against:
// nginx-tls for the TLS paths, plain nginx for the others.
func baseline(path string) string {
	if isTLS(path) {
		return PathNginxTLS
	}
	return PathNginx
}

// isTLS says whether wrk reaches path over TLS.
func isTLS(path string) bool { return path == PathRudderTLS || path == PathNginxTLS }

// usesRudder says whether a path of paths goes through rudder ingress.
func usesRudder(paths []string) bool {
	return slices.Contains(paths, PathRudder) || slices.Contains(paths, PathRudderTLS)
}

// Pinning modes.
const (
	// ModePinned puts the proxy on CPU 0, wrk and the backends on CPU 1;
	// on the direct path the backends get CPU 0.
	ModePinned = "pinned"
	// ModeUnpinned leaves placement to the scheduler; the proxies use
	// every CPU.
	ModeUnpinned = "unpinned"
)

// Host is the Host header of every request and the Ingress rule's host.
const Host = "bench.example"

// Config says what to measure. Zero fields take the values of Defaults.
type Config struct {
	// RudderBin runs `rudder server`, `rudder netexec` and
	// `rudder ingress` (required).
	RudderBin string
	// NginxBin is the nginx binary (default /usr/sbin/nginx, else nginx
	// on PATH); WrkBin likewise wrk.
	NginxBin string
	WrkBin   string
	// IngressArgs are extra flags for `rudder ingress` (experiments).
	IngressArgs []string
	// Paths to measure (default direct, rudder, nginx).
	Paths []string
	// Modes are ModePinned and/or ModeUnpinned (default both; pinned
	// only with two CPUs or more).
	Modes []string
	// Connections are wrk's -c values (default 16, 64, 256); Threads
	// is wrk's -t (default 2).
	Connections []int
	Threads     int
	// BodyBytes is the size of each response (default 1024).
	BodyBytes int
	// Duration of one wrk run (default 10s); Runs per path, mode and
	// connection count (default 3); Warmup before a mode (default 2s).
	Duration time.Duration
	Runs     int
	Warmup   time.Duration
	// Out receives ingress.json, INGRESS.md and the logs (ingress/).
	Out string
	// Progress receives progress lines; TTY rewrites them in place.
	Progress io.Writer
	TTY      bool
}

// Defaults fills the zero fields of c.
func (c Config) Defaults() Config {
	if len(c.Paths) == 0 {
		c.Paths = []string{PathDirect, PathRudder, PathNginx, PathNginxHeaders, PathRudderTLS, PathNginxTLS}
	}
	if len(c.Modes) == 0 {
		c.Modes = []string{ModePinned, ModeUnpinned}
	}
	if len(c.Connections) == 0 {
		c.Connections = []int{16, 64, 256}
	}
	if c.Threads <= 0 {
		c.Threads = 2
	}
	if c.BodyBytes <= 0 {
		c.BodyBytes = 1024
	}
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Runs <= 0 {
		c.Runs = 3
	}
	if c.Warmup <= 0 {
		c.Warmup = 2 * time.Second
	}
	if c.Out == "" {
		c.Out = filepath.Join("bench", "results", time.Now().Format("2006-01-02"))
	}
	return c
}

// Validate reports a Config that cannot run.
func (c Config) Validate() error {
	if c.RudderBin == "" {
		return fmt.Errorf("ingressbench: RudderBin is required")
	}
	known := []string{PathDirect, PathRudder, PathNginx, PathNginxNoKeepalive, PathNginxHeaders, PathRudderTLS, PathNginxTLS}
	for _, p := range c.Paths {
		if !slices.Contains(known, p) {
			return fmt.Errorf("ingressbench: unknown path %q (want one of %v)", p, known)
		}
	}
	for _, m := range c.Modes {
		if m != ModePinned && m != ModeUnpinned {
			return fmt.Errorf("ingressbench: unknown mode %q (want %s or %s)", m, ModePinned, ModeUnpinned)
		}
	}
	for _, n := range c.Connections {
		if n < 1 || n > 10000 {
			return fmt.Errorf("ingressbench: %d connections: want 1-10000", n)
		}
		if n < c.Threads {
			return fmt.Errorf("ingressbench: %d connections for %d wrk threads: want at least one per thread", n, c.Threads)
		}
	}
	if c.BodyBytes > 1<<20 {
		return fmt.Errorf("ingressbench: body of %d bytes: netexec answers at most 1 MiB", c.BodyBytes)
	}
	return nil
}

// usesNginx says whether an nginx path is measured.
func (c Config) usesNginx() bool {
	return slices.Contains(c.Paths, PathNginx) || slices.Contains(c.Paths, PathNginxNoKeepalive) ||
		slices.Contains(c.Paths, PathNginxHeaders) || slices.Contains(c.Paths, PathNginxTLS)
}

// Quick shrinks c to a smoke test (one 2 s run at 64 connections, pinned
// only, a 1 s warm-up), keeping what was set explicitly.
func Quick(c Config) Config {
	if len(c.Paths) == 0 {
		c.Paths = []string{PathDirect, PathRudder, PathNginx}
	}
	if c.Duration == 0 {
		c.Duration = 2 * time.Second
	}
	if c.Runs == 0 {
		c.Runs = 1
	}
	if len(c.Connections) == 0 {
		c.Connections = []int{64}
	}
	if len(c.Modes) == 0 {
		c.Modes = []string{ModePinned}
	}
	if c.Warmup == 0 {
		c.Warmup = time.Second
	}
	return c
}
