// Package stack assembles a DNS server from its handlers, in CoreDNS's
// order: metrics → errors → log → autopath → cache → hosts → kubernetes →
// forward. `rudder dns` (the cluster DNS) and the agent's node-local cache
// are two configurations of it.
package stack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"
	"k8s.io/client-go/kubernetes"

	"rudder/dns/autopath"
	"rudder/dns/cache"
	"rudder/dns/forward"
	"rudder/dns/hosts"
	k8sdns "rudder/dns/kubernetes"
	dnslog "rudder/dns/log"
	"rudder/dns/metrics"
	"rudder/dns/plugin"
	"rudder/dns/server"
	"rudder/proxy/serviceview"
)

// Config is a DNS server's whole configuration.
type Config struct {
	// Listen are the addresses served over UDP and TCP (host:port).
	Listen []string
	// Kubernetes, when set, serves the cluster zone.
	Kubernetes *Kubernetes
	// Upstreams are forwarded to (host[:port]); empty takes the
	// nameservers of ResolvConf; with neither, nothing is forwarded and
	// names outside the zones are REFUSED.
	Upstreams  []string
	ResolvConf string
	// ForwardPolicy is random, round_robin or sequential.
	ForwardPolicy string
	// ForwardMaxConcurrent caps queries in flight upstream (0: default).
	ForwardMaxConcurrent int
	// ForwardTCP sends every forwarded query over TCP.
	ForwardTCP bool
	// Cache turns the cache on; CacheSize is its capacity for positive
	// and for negative answers (0: default), CacheMaxTTL and
	// CacheNegativeMaxTTL clamp TTLs (0: defaults), Prefetch is the hits
	// that make an expiring entry refresh early (0: default, <0: off).
	Cache                            bool
	CacheSize                        int
	CacheMaxTTL, CacheNegativeMaxTTL time.Duration
	Prefetch                         int
	// HostsFile and Hosts are static entries (a hosts file, reloaded when
	// it changes, and inline "IP name..." lines).
	HostsFile string
	Hosts     []string
	// LogQueries logs every query.
	LogQueries bool
	// Lameduck keeps answering for this long after shutdown starts while
	// /health fails, so load balancers drain first.
	Lameduck time.Duration
	// Name labels the metrics (default dns://<first listen address>).
	Name       string
	Registerer prometheus.Registerer
	Logger     *slog.Logger
}

// Kubernetes configures the cluster zone.
type Kubernetes struct {
	Client kubernetes.Interface
	// Domain is the cluster domain (default cluster.local).
	Domain string
	// TTL of the zone's records (default 5 s).
	TTL time.Duration
	// Autopath answers a ClusterFirst pod's search-path expansions in one
	// round trip; it watches Pods (their addresses) to know the client's
	// namespace. Search are the extra search domains pods have after the
	// cluster's three (the nodes' resolv.conf search list).
	Autopath bool
	Search   []string
}

// Stack is an assembled DNS server.
type Stack struct {
	srv  *server.Server
	runs []func(ctx context.Context) error
	fwd  *forward.Forward
	// ready are the handlers' loaded-state checks, also behind /ready.
	ready map[string]func() bool
}

// New builds the handlers and the server; nothing listens until Run.
func New(cfg Config) (*Stack, error) {
	if len(cfg.Listen) == 0 {
		return nil, errors.New("dns: no listen address")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Registerer == nil {
		cfg.Registerer = prometheus.NewRegistry()
	}
	if cfg.Name == "" {
		cfg.Name = "dns://" + cfg.Listen[0]
	}
	s := &Stack{}
	errs := dnslog.NewErrors(dnslog.ErrorsConfig{Logger: cfg.Logger})
	s.runs = append(s.runs, func(ctx context.Context) error { errs.Run(ctx); return nil })
	m, err := metrics.New(metrics.Config{Server: cfg.Name, Registerer: cfg.Registerer})
	if err != nil {
		return nil, fmt.Errorf("dns metrics: %w", err)
	}
	chain := []plugin.Plugin{m.Plugin(), errs.Plugin()}
	if cfg.LogQueries {
		chain = append(chain, dnslog.Queries(dnslog.QueryConfig{Logger: cfg.Logger}))
	}
	rest, ready, err := s.handlers(cfg)
	if err != nil {
		return nil, err
	}
	chain = append(chain, rest...)
	srv, err := server.New(server.Config{Addrs: cfg.Listen, Handler: plugin.Chain(chain...), Logger: cfg.Logger,
		Errors: errs, Registerer: cfg.Registerer, Lameduck: cfg.Lameduck})
	if err != nil {
		return nil, fmt.Errorf("dns server: %w", err)
	}
	for name, f := range ready {
		srv.AddReady(name, f)
	}
	s.srv, s.ready = srv, ready
	return s, nil
}

// handlers builds autopath, cache, hosts, kubernetes and forward as cfg
// asks, with the readiness checks of those that load state.
func (s *Stack) handlers(cfg Config) ([]plugin.Plugin, map[string]func() bool, error) {
	var chain []plugin.Plugin
	ready := map[string]func() bool{}
	k := cfg.Kubernetes
	var zone *k8sdns.Handler
	if k != nil {
		var err error
		if zone, err = s.kubernetes(cfg, k); err != nil {
			return nil, nil, err
		}
		ready["kubernetes"] = zone.Ready
		if k.Autopath {
			p, err := s.autopath(cfg, k, ready)
			if err != nil {
				return nil, nil, err
			}
			chain = append(chain, p)
		}
	}
	if cfg.Cache {
		c, err := cache.New(cache.Config{Capacity: cfg.CacheSize, NegativeCapacity: cfg.CacheSize, MaxTTL: cfg.CacheMaxTTL,
			NegativeMaxTTL: cfg.CacheNegativeMaxTTL, PrefetchAmount: cfg.Prefetch, Registerer: cfg.Registerer, Logger: cfg.Logger})
		if err != nil {
			return nil, nil, err // says "configure dns cache"
		}
		chain = append(chain, c.Plugin())
	}
	if cfg.HostsFile != "" || len(cfg.Hosts) > 0 {
		h, err := hosts.New(hosts.Config{Path: cfg.HostsFile, Entries: cfg.Hosts, Logger: cfg.Logger})
		if err != nil {
			return nil, nil, err // says "configure dns hosts"
		}
		s.runs = append(s.runs, h.Run)
		chain = append(chain, h.Plugin())
	}
	if zone != nil {
		chain = append(chain, zone.Plugin())
	}
	if len(cfg.Upstreams) > 0 || cfg.ResolvConf != "" {
		f, err := forward.New(forward.Config{Upstreams: cfg.Upstreams, ResolvConf: cfg.ResolvConf, Self: cfg.Listen,
			Policy: forward.Policy(cfg.ForwardPolicy), MaxConcurrent: cfg.ForwardMaxConcurrent, ForceTCP: cfg.ForwardTCP,
			Registerer: cfg.Registerer, Logger: cfg.Logger})
		if err != nil {
			return nil, nil, err // says "configure dns forward"
		}
		s.fwd = f
		chain = append(chain, f.Plugin())
	}
	return chain, ready, nil
}

func (s *Stack) kubernetes(cfg Config, k *Kubernetes) (*k8sdns.Handler, error) {
	if k.Client == nil {
		return nil, errors.New("dns: the kubernetes zone needs a client")
	}
	view, err := serviceview.New(serviceview.Config{Client: k.Client, NoNodes: true, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	h, err := k8sdns.New(k8sdns.Config{Domain: k.Domain, TTL: uint32(k.TTL / time.Second), View: view,
		NSIPs: listenIPs(cfg.Listen), Registerer: cfg.Registerer, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	s.runs = append(s.runs, view.Run, h.Run)
	return h, nil
}

func (s *Stack) autopath(cfg Config, k *Kubernetes, ready map[string]func() bool) (plugin.Plugin, error) {
	pods, err := autopath.NewPodIndex(k.Client, cfg.Logger)
	if err != nil {
		return nil, err
	}
	a, err := autopath.New(autopath.Config{Domain: k.Domain, Search: k.Search, Pods: pods,
		Registerer: cfg.Registerer, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	s.runs = append(s.runs, pods.Run)
	ready["autopath"] = pods.HasSynced
	return a.Plugin(), nil
}

// listenIPs are the specific addresses among the listen addresses (for
// the zone's NS record).
func listenIPs(listen []string) []net.IP {
	var ips []net.IP
	for _, a := range listen {
		host, _, err := net.SplitHostPort(a)
		if ip := net.ParseIP(host); err == nil && ip != nil && !ip.IsUnspecified() {
			ips = append(ips, ip)
		}
	}
	return ips
}

// Run serves until ctx ends (after the lameduck period), running every
// watcher beside the server; one failing stops all.
func (s *Stack) Run(ctx context.Context) error {
	defer func() {
		if s.fwd != nil {
			_ = s.fwd.Close()
		}
	}()
	g, ctx := errgroup.WithContext(ctx)
	// The watchers stop only after the server: lameduck keeps answering
	// from the last zone.
	watch, stopWatch := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWatch()
	for _, run := range s.runs {
		g.Go(func() error { return run(watch) })
	}
	g.Go(func() error {
		defer stopWatch()
		return s.srv.Serve(ctx)
	})
	return g.Wait()
}

// HealthHandler serves /health and /ready.
func (s *Stack) HealthHandler() http.Handler { return s.srv.HealthHandler() }

// Ready tells whether the server listens and every zone is loaded (what
// /ready answers).
func (s *Stack) Ready() bool {
	if !s.srv.Ready() {
		return false
	}
	for _, f := range s.ready {
		if !f() {
			return false
		}
	}
	return true
}

// Started is closed once the server listens.
func (s *Stack) Started() <-chan struct{} { return s.srv.Started() }

// Addr is where the server listens (the first address), for tests that
// listen on port 0.
func (s *Stack) Addr(proto string) net.Addr { return s.srv.Addr(proto) }
