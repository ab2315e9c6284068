package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"rudder/proxy/conntrack"
	"rudder/proxy/healthcheck"
	"rudder/proxy/model"
	"rudder/proxy/proxier"
	"rudder/proxy/serviceview"
)

type proxyFlags struct {
	kubeconfig        string
	mode              string
	hostname          string
	clusterCIDR       string
	nodePortAddresses string
	minSyncPeriod     time.Duration
	syncPeriod        time.Duration
	cleanup           bool
	metricsAddr       string
}

// newProxyCommand is `rudder proxy`: the service proxy on its own, with
// one backend constructor per --mode.
func newProxyCommand(backends map[string]proxier.NewBackendFunc) *cobra.Command {
	fl := &proxyFlags{}
	modes := slices.Sorted(maps.Keys(backends))
	cmd := &cobra.Command{
		Use:   "proxy",
		Short: "Run the service proxy: Services and EndpointSlices to " + strings.Join(modes, " or ") + " rules",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if fl.cleanup {
				return cleanupBackends(cmd.Context(), backends, "")
			}
			return runProxy(cmd.Context(), backends, fl)
		},
	}
	host, _ := os.Hostname()
	f := cmd.Flags()
	f.StringVar(&fl.kubeconfig, "kubeconfig", "", "kubeconfig file (empty: in-cluster credentials)")
	f.StringVar(&fl.mode, "mode", "iptables", "backend: "+strings.Join(modes, ", "))
	f.StringVar(&fl.hostname, "hostname-override", host, "name of this node's Node object")
	f.StringVar(&fl.clusterCIDR, "cluster-cidr", "10.244.0.0/16", "pod network(s), comma-separated; service traffic from outside is masqueraded")
	f.StringVar(&fl.nodePortAddresses, "nodeport-addresses", "", "CIDRs of the node addresses NodePorts answer on, comma-separated (empty: all but loopback)")
	f.DurationVar(&fl.minSyncPeriod, "min-sync-period", time.Second, "at most one sync per period")
	f.DurationVar(&fl.syncPeriod, "sync-period", 30*time.Second, "at least one sync per period")
	f.BoolVar(&fl.cleanup, "cleanup", false, "remove what every backend installed, then exit")
	f.StringVar(&fl.metricsAddr, "metrics-addr", ":10249", "serve /metrics and /healthz here (empty: off)")
	return cmd
}

func runProxy(ctx context.Context, backends map[string]proxier.NewBackendFunc, fl *proxyFlags) error {
	rc, err := clientcmd.BuildConfigFromFlags("", fl.kubeconfig)
	if err != nil {
		return fmt.Errorf("--kubeconfig: %w", err)
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return fmt.Errorf("kubernetes client: %w", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	parts, err := newProxyParts(ctx, backends, fl, client, reg)
	if err != nil {
		return err
	}
	defer parts.servers.Close()
	return runProxyParts(ctx, parts.view, parts.proxier, fl.metricsAddr, reg, parts.healthz)
}

// proxyParts is a built service proxy, ready to run.
type proxyParts struct {
	view    *serviceview.View
	proxier *proxier.Proxier
	healthz *healthcheck.Healthz
	servers *healthcheck.Servers
}

// newProxyParts builds the service view, the backend of fl.mode and the
// proxier; `rudder proxy` and `rudder agent` share it.
func newProxyParts(ctx context.Context, backends map[string]proxier.NewBackendFunc, fl *proxyFlags, client kubernetes.Interface, reg prometheus.Registerer) (*proxyParts, error) {
	newBackend, ok := backends[fl.mode]
	if !ok {
		return nil, fmt.Errorf("--mode %q: want one of %v", fl.mode, slices.Sorted(maps.Keys(backends)))
	}
	node, err := proxyNode(fl)
	if err != nil {
		return nil, err
	}
	view, err := serviceview.New(serviceview.Config{Client: client, Logger: slog.Default()})
	if err != nil {
		return nil, err
	}
	backend, err := newBackend(proxier.BackendConfig{Node: node, Registerer: reg, Logger: slog.Default().With("backend", fl.mode)})
	if err != nil {
		return nil, fmt.Errorf("%s backend: %w", fl.mode, err)
	}
	if err := cleanupBackends(ctx, backends, fl.mode); err != nil {
		slog.Warn("removing other modes' leftovers", "err", err)
	}
	healthz := healthcheck.NewHealthz(nil, 2*fl.syncPeriod+fl.minSyncPeriod)
	servers := healthcheck.NewServers(healthcheck.Config{Proxy: healthz})
	p, err := proxier.New(proxier.Config{
		NodeName: node.Name, NodePortAddresses: node.NodePortAddresses, ClusterCIDRs: node.ClusterCIDRs,
		MinSyncPeriod: fl.minSyncPeriod, SyncPeriod: fl.syncPeriod,
		Source: view, Backend: backend, Healthz: healthz, HealthServers: servers, Registerer: reg,
		Conntrack: conntrack.Netlink{},
	})
	if err != nil {
		servers.Close()
		return nil, err
	}
	return &proxyParts{view: view, proxier: p, healthz: healthz, servers: servers}, nil
}

// runProxyParts runs the view, the proxier and the metrics server until
// ctx ends or one of them fails.
func runProxyParts(ctx context.Context, view *serviceview.View, p *proxier.Proxier, addr string, reg *prometheus.Registry, healthz http.Handler) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, 3)
	go func() { errs <- view.Run(ctx) }()
	go func() { errs <- p.Run(ctx) }()
	n := 2
	if addr != "" {
		n++
		go func() { errs <- serveMetrics(ctx, "proxy", addr, reg, healthz, nil) }()
	}
	var all []error
	for range n {
		if err := <-errs; err != nil {
			all = append(all, err)
		}
		cancel() // one part stopping stops them all
	}
	return errors.Join(all...)
}

func proxyNode(fl *proxyFlags) (model.Node, error) {
	cidrs, err := proxier.ParseCIDRs(fl.clusterCIDR)
	if err != nil {
		return model.Node{}, fmt.Errorf("--cluster-cidr: %w", err)
	}
	npCIDRs, err := proxier.ParseCIDRs(fl.nodePortAddresses)
	if err != nil {
		return model.Node{}, fmt.Errorf("--nodeport-addresses: %w", err)
	}
	addrs, err := proxier.InterfaceAddresses()
	if err != nil {
		return model.Node{}, err
	}
	if fl.hostname == "" {
		return model.Node{}, errors.New("--hostname-override: empty node name")
	}
	return model.Node{Name: fl.hostname, NodePortAddresses: proxier.FilterAddresses(addrs, npCIDRs), ClusterCIDRs: cidrs}, nil
}

// cleanupBackends runs Cleanup of every backend but the one named keep.
func cleanupBackends(ctx context.Context, backends map[string]proxier.NewBackendFunc, keep string) error {
	var errs []error
	for _, mode := range slices.Sorted(maps.Keys(backends)) {
		if mode == keep {
			continue
		}
		b, err := backends[mode](proxier.BackendConfig{Registerer: prometheus.NewRegistry(), Logger: slog.Default().With("backend", mode)})
		if err == nil {
			err = b.Cleanup(ctx)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("clean up %s: %w", mode, err))
			continue
		}
		slog.Info("cleaned up", "backend", mode)
	}
	return errors.Join(errs...)
}
