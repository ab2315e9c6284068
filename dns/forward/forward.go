// Package forward is the DNS handler that answers queries by asking
// upstream servers: UDP with a TCP retry on truncation, pooled
// connections, health checks of failing upstreams, a cap on concurrent
// queries and a choice of upstream order, in the manner of CoreDNS's
// forward plugin.
package forward

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"rudder/dns/plugin"
)

// Defaults.
const (
	DefaultTimeout        = 2 * time.Second
	DefaultMaxFails       = 2
	DefaultHealthInterval = 500 * time.Millisecond
	DefaultExpire         = 10 * time.Second
	DefaultMaxConcurrent  = 1000
	maxUpstreams          = 15
)

// ErrNoUpstream is returned (with SERVFAIL) when no upstream answered.
var ErrNoUpstream = errors.New("no upstream answered")

// Config configures a Forward. Zero values take the defaults.
type Config struct {
	// Upstreams are IP or IP:port addresses (port 53 by default). When
	// empty, the nameservers of ResolvConf are used.
	Upstreams  []string
	ResolvConf string
	// Self are this server's listen addresses (IP:port): upstreams equal
	// to one of them are dropped so that the server does not query itself.
	Self []string
	// Except are domains that are not forwarded but passed to the next
	// handler.
	Except []string
	// Policy orders the upstreams for each query (default Random).
	Policy Policy
	// Timeout bounds one try to one upstream (default 2 s).
	Timeout time.Duration
	// MaxFails consecutive failed tries mark an upstream down (default 2);
	// HealthInterval is how often a down upstream is checked (0.5 s).
	MaxFails       int
	HealthInterval time.Duration
	// Expire closes connections idle for longer (default 10 s).
	Expire time.Duration
	// MaxConcurrent caps the queries in flight; past it queries are
	// REFUSED (default 1000).
	MaxConcurrent int
	// ForceTCP sends every query upstream over TCP.
	ForceTCP bool
	// Registerer receives the metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Logger (default slog.Default()).
	Logger *slog.Logger
}

// Forward is the forwarding handler. Close it to stop its health checks
// and close its connections.
type Forward struct {
	cfg      Config
	ups      []*upstream
	except   []string
	maxFails int32
	inflight atomic.Int64
	rr       atomic.Uint32
	m        *metrics
	log      *slog.Logger
	next     plugin.Handler
	qbufs    sync.Pool

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New checks cfg, resolves the upstreams and returns a Forward.
func New(cfg Config) (*Forward, error) {
	if err := cfg.defaults(); err != nil {
		return nil, fmt.Errorf("configure dns forward: %w", err)
	}
	addrs, err := upstreams(cfg)
	if err != nil {
		return nil, fmt.Errorf("configure dns forward: %w", err)
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("configure dns forward: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &Forward{cfg: cfg, maxFails: int32(cfg.MaxFails), m: m, log: cfg.Logger, ctx: ctx, cancel: cancel}
	f.qbufs.New = func() any { b := make([]byte, 1024); return &b }
	bufs := newBuffers()
	for _, a := range addrs {
		f.ups = append(f.ups, newUpstream(a, cfg.Expire, bufs, m))
	}
	for _, d := range cfg.Except {
		f.except = append(f.except, strings.ToLower(dns.Fqdn(d)))
	}
	return f, nil
}

func (cfg *Config) defaults() error {
	if cfg.Policy == "" {
		cfg.Policy = Random
	}
	setDur(&cfg.Timeout, DefaultTimeout)
	setDur(&cfg.HealthInterval, DefaultHealthInterval)
	setDur(&cfg.Expire, DefaultExpire)
	if cfg.MaxFails == 0 {
		cfg.MaxFails = DefaultMaxFails
	}
	if cfg.MaxConcurrent == 0 {
		cfg.MaxConcurrent = DefaultMaxConcurrent
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	switch {
	case cfg.Timeout < 0 || cfg.HealthInterval < 0 || cfg.Expire < 0:
		return fmt.Errorf("timeout %s, health interval %s, expire %s: must not be negative", cfg.Timeout, cfg.HealthInterval, cfg.Expire)
	case cfg.MaxFails < 0 || cfg.MaxConcurrent < 0:
		return fmt.Errorf("max fails %d, max concurrent %d: must not be negative", cfg.MaxFails, cfg.MaxConcurrent)
	}
	for _, d := range cfg.Except {
		if _, ok := dns.IsDomainName(d); !ok {
			return fmt.Errorf("except domain %q: not a domain name", d)
		}
	}
	return cfg.Policy.valid()
}

func setDur(p *time.Duration, d time.Duration) {
	if *p == 0 {
		*p = d
	}
}

// upstreams returns the normalized upstream addresses of cfg, without
// this server's own.
func upstreams(cfg Config) ([]string, error) {
	var addrs []string
	if len(cfg.Upstreams) > 0 {
		for _, s := range cfg.Upstreams {
			a, err := normalize(s)
			if err != nil {
				return nil, err
			}
			addrs = append(addrs, a)
		}
	} else if cfg.ResolvConf != "" {
		var err error
		if addrs, err = FromResolvConf(cfg.ResolvConf); err != nil {
			return nil, err
		}
	} else {
		return nil, errors.New("no upstream: give Upstreams or ResolvConf")
	}
	if len(addrs) > maxUpstreams {
		return nil, fmt.Errorf("%d upstreams: at most %d", len(addrs), maxUpstreams)
	}
	return withoutSelf(addrs, cfg.Self)
}

// Plugin puts the forwarder in the chain; next only sees the Except
// domains. Call it once, while building the chain.
func (f *Forward) Plugin() plugin.Plugin {
	return func(next plugin.Handler) plugin.Handler {
		f.next = next
		return f
	}
}

// Name is "forward".
func (f *Forward) Name() string { return "forward" }

// Upstreams returns the upstream addresses in configuration order.
func (f *Forward) Upstreams() []string {
	out := make([]string, len(f.ups))
	for i, u := range f.ups {
		out[i] = u.addr
	}
	return out
}

// Healthy tells whether the upstream addr is not marked down.
func (f *Forward) Healthy(addr string) bool {
	for _, u := range f.ups {
		if u.addr == addr {
			return !u.down.Load()
		}
	}
	return false
}

// Close stops the health checks and closes the idle connections.
func (f *Forward) Close() error {
	f.cancel()
	f.wg.Wait()
	for _, u := range f.ups {
		u.udp.close()
		u.tcp.close()
	}
	return nil
}
