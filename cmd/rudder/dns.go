package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"rudder/dns/forward"
	"rudder/dns/stack"
)

// dnsFlags are `rudder dns`'s flags; a --config file may set any of them.
type dnsFlags struct {
	config, kubeconfig, metricsAddr string
	profiling                       bool
	cfg                             stack.Config
	kubernetes, autopath            bool
	domain                          string
	ttl                             time.Duration
	search                          []string
}

// newDNSCommand is `rudder dns`: the cluster DNS server.
func newDNSCommand() *cobra.Command {
	fl := &dnsFlags{}
	cmd := &cobra.Command{
		Use:   "dns",
		Short: "Run the cluster DNS: the Kubernetes DNS specification for the cluster zone, a cache, and forwarding",
		Long: `dns answers the cluster zone (Services, endpoints, pods: the Kubernetes DNS-based
service discovery specification 1.1.0) from the API, caches, and forwards other names to
the upstreams (--upstream, or the nameservers of --resolv-conf). With --kubernetes=false
it is a plain caching forwarder (the agent's node-local cache) or, with --hosts-file and
--upstream none, a small authoritative server for static names. Every flag can also be
given in a YAML --config file whose keys are the flag names; the command line wins.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if fl.config != "" {
				if err := applyConfigFile(cmd.Flags(), fl.config); err != nil {
					return err
				}
			}
			return runDNS(cmd.Context(), fl)
		},
	}
	c := &fl.cfg
	f := cmd.Flags()
	f.StringVar(&fl.config, "config", "", "YAML file of flag values (keys are flag names)")
	f.StringVar(&fl.kubeconfig, "kubeconfig", "", "kubeconfig file (empty: in-cluster credentials)")
	f.BoolVar(&fl.kubernetes, "kubernetes", true, "serve the cluster zone from the API")
	f.StringVar(&fl.domain, "cluster-domain", "cluster.local", "the cluster zone")
	f.DurationVar(&fl.ttl, "ttl", 5*time.Second, "TTL of the cluster zone's answers")
	f.BoolVar(&fl.autopath, "autopath", false, "answer ClusterFirst pods' search-path expansions in one round trip (watches Pods)")
	f.StringSliceVar(&fl.search, "autopath-search", nil, "search domains pods have after the cluster's (default: those of --resolv-conf)")
	f.StringSliceVar(&c.Listen, "listen", []string{":53"}, "addresses to serve DNS on, UDP and TCP")
	f.StringSliceVar(&c.Upstreams, "upstream", nil, `upstream servers host[:port] ("none": do not forward; default: --resolv-conf's nameservers)`)
	f.StringVar(&c.ResolvConf, "resolv-conf", "/etc/resolv.conf", "resolver configuration naming the upstreams")
	f.StringVar(&c.ForwardPolicy, "forward-policy", string(forward.Random), "upstream choice: random, round_robin or sequential")
	f.IntVar(&c.ForwardMaxConcurrent, "forward-max-concurrent", forward.DefaultMaxConcurrent, "queries in flight upstream before new ones are REFUSED")
	f.BoolVar(&c.ForwardTCP, "forward-tcp", false, "forward over TCP only")
	f.BoolVar(&c.Cache, "cache", true, "cache answers")
	f.IntVar(&c.CacheSize, "cache-size", 9984, "cache capacity, for positive and for negative answers each")
	f.DurationVar(&c.CacheMaxTTL, "cache-max-ttl", time.Hour, "longest time a positive answer is cached")
	f.DurationVar(&c.CacheNegativeMaxTTL, "cache-negative-max-ttl", 30*time.Minute, "longest time a negative answer is cached")
	f.IntVar(&c.Prefetch, "cache-prefetch", 2, "hits that make an expiring entry refresh early (-1: never)")
	f.StringVar(&c.HostsFile, "hosts-file", "", "hosts file of static names (reloaded when it changes)")
	f.StringArrayVar(&c.Hosts, "host", nil, `static entry "IP name [name...]" (repeatable)`)
	f.BoolVar(&c.LogQueries, "log-queries", false, "log every query")
	f.DurationVar(&c.Lameduck, "lameduck", 0, "on shutdown, keep answering this long while /health fails")
	f.StringVar(&fl.metricsAddr, "metrics-addr", ":9153", "serve /metrics, /health, /healthz and /ready here (empty: off)")
	f.BoolVar(&fl.profiling, "profiling", false, "also serve Go's /debug/pprof/ on --metrics-addr")
	return cmd
}

// stackConfig completes the stack configuration from the flags.
func (fl *dnsFlags) stackConfig(reg prometheus.Registerer) (stack.Config, error) {
	c := fl.cfg
	c.Registerer, c.Logger = reg, slog.Default()
	switch {
	case len(c.Upstreams) == 1 && c.Upstreams[0] == "none":
		c.Upstreams, c.ResolvConf = nil, ""
	case len(c.Upstreams) > 0:
		c.ResolvConf = ""
	}
	if !fl.kubernetes {
		return c, nil
	}
	rc, err := clientcmd.BuildConfigFromFlags("", fl.kubeconfig)
	if err != nil {
		return c, fmt.Errorf("kubeconfig: %w", err)
	}
	rc.UserAgent = "rudder-dns"
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return c, fmt.Errorf("kubernetes client: %w", err)
	}
	search := fl.search
	if fl.autopath && search == nil && fl.cfg.ResolvConf != "" {
		if search, err = resolvSearch(fl.cfg.ResolvConf); err != nil {
			return c, err
		}
	}
	c.Kubernetes = &stack.Kubernetes{Client: client, Domain: fl.domain, TTL: fl.ttl, Autopath: fl.autopath, Search: search}
	return c, nil
}

func runDNS(ctx context.Context, fl *dnsFlags) error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	cfg, err := fl.stackConfig(reg)
	if err != nil {
		return err
	}
	s, err := stack.New(cfg)
	if err != nil {
		return err
	}
	parts := []agentPart{{name: "dns", run: s.Run}}
	if fl.metricsAddr != "" {
		health := s.HealthHandler()
		mux := http.NewServeMux()
		mux.Handle("/health", health)
		mux.Handle("/ready", health)
		if fl.profiling {
			mux.HandleFunc("/debug/pprof/", pprof.Index)
			mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		}
		healthz := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r = r.Clone(r.Context())
			r.URL.Path = "/health"
			health.ServeHTTP(w, r)
		})
		parts = append(parts, agentPart{name: "metrics", run: func(ctx context.Context) error {
			return serveMetrics(ctx, "dns", fl.metricsAddr, reg, healthz, mux)
		}})
	}
	return runAgentParts(ctx, parts)
}

// resolvSearch is the search list of a resolv.conf.
func resolvSearch(path string) ([]string, error) {
	c, err := mdns.ClientConfigFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("read search list: %w", err)
	}
	return c.Search, nil
}
