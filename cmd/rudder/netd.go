package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"rudder/cni/netd"
	"rudder/cni/netd/netstate"
	"rudder/cni/netd/nodesource"
)

type netdFlags struct {
	kubeconfig  string
	backend     string
	clusterCIDR string
	podCIDR     string
	nodesFile   string
	metricsAddr string
}

// newNetdCommand is `rudder netd`: the per-node overlay daemon on its own.
func newNetdCommand() *cobra.Command {
	cfg := netd.DefaultConfig()
	fl := &netdFlags{}
	cmd := &cobra.Command{
		Use:   "netd",
		Short: "Run the per-node overlay daemon: VXLAN or host-gw routes, the subnet file and the CNI conflist",
		Long: `netd programs this node's overlay from the cluster's Node objects (--kubeconfig, or
in-cluster credentials), or, standalone, from --pod-cidr and --nodes-file, a JSON list
[{"name","podCIDR","publicIP","vtepMAC"}] re-read at every resync.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runNetd(cmd.Context(), cfg, fl)
		},
	}
	host, _ := os.Hostname()
	f := cmd.Flags()
	f.StringVar(&fl.kubeconfig, "kubeconfig", "", "kubeconfig file (empty: in-cluster credentials)")
	f.StringVar(&cfg.NodeName, "node-name", host, "name of this node's Node object")
	f.StringVar(&fl.backend, "backend", string(cfg.Backend), "overlay backend: vxlan or host-gw")
	f.StringVar(&cfg.Underlay, "iface", "", "underlay interface name or IPv4 address (empty: interface of the default route)")
	f.StringVar(&fl.clusterCIDR, "cluster-cidr", cfg.ClusterCIDR.String(), "pod network of the whole cluster")
	f.StringVar(&cfg.SubnetFile, "subnet-file", cfg.SubnetFile, "subnet file written for the CNI plugin")
	f.StringVar(&cfg.CNIConfDir, "cni-conf-dir", cfg.CNIConfDir, "directory for "+cfg.ConflistName)
	f.StringVar(&cfg.IPAMDataDir, "ipam-data-dir", cfg.IPAMDataDir, "IPAM store root written into the conflist")
	f.BoolVar(&cfg.IPMasq, "ip-masq", cfg.IPMasq, "masquerade pod traffic leaving the cluster CIDR")
	f.IntVar(&cfg.VNI, "vni", cfg.VNI, "VXLAN network identifier")
	f.IntVar(&cfg.Port, "vxlan-port", cfg.Port, "VXLAN UDP port")
	f.StringVar(&cfg.NetNS, "netns", "", "network namespace to act in, as a path (empty: the current one)")
	f.DurationVar(&cfg.ResyncPeriod, "resync-period", cfg.ResyncPeriod, "full resync at least this often")
	f.StringVar(&fl.podCIDR, "pod-cidr", "", "standalone: this node's pod range (no API server)")
	f.StringVar(&fl.nodesFile, "nodes-file", "", "standalone: JSON file listing the other nodes")
	f.StringVar(&fl.metricsAddr, "metrics-addr", ":9105", "serve /metrics and /healthz here (empty: off)")
	return cmd
}

func runNetd(ctx context.Context, cfg netd.Config, fl *netdFlags) error {
	var err error
	if cfg.Backend, err = netstate.ParseBackend(fl.backend); err != nil {
		return fmt.Errorf("--backend: %w", err)
	}
	if cfg.ClusterCIDR, err = netip.ParsePrefix(fl.clusterCIDR); err != nil {
		return fmt.Errorf("--cluster-cidr: %w", err)
	}
	src, err := netdNodeSource(cfg.NodeName, fl)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	d, err := netd.New(cfg, netd.Deps{Nodes: src, Registerer: reg, Logger: slog.Default()})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	runErr, serveErr := make(chan error, 1), make(chan error, 1)
	go func() { runErr <- d.Run(ctx) }()
	if fl.metricsAddr != "" {
		go func() { serveErr <- serveMetrics(ctx, "netd", fl.metricsAddr, reg, d.Healthz(), nil) }()
	}
	select {
	case err := <-runErr:
		return err
	case err := <-serveErr: // only fails to listen or serve; netd stops with it
		cancel()
		return errors.Join(err, <-runErr)
	}
}

func netdNodeSource(self string, fl *netdFlags) (netd.NodeSource, error) {
	var fixed []netstate.Node
	if fl.podCIDR != "" {
		p, err := netip.ParsePrefix(fl.podCIDR)
		if err != nil {
			return nil, fmt.Errorf("--pod-cidr: %w", err)
		}
		fixed = append(fixed, netstate.Node{Name: self, PodCIDR: p.Masked()})
	}
	switch {
	case fl.nodesFile != "":
		return nodesource.NewFile(fl.nodesFile, fixed...), nil
	case fl.podCIDR != "":
		return nodesource.NewStatic(fixed...), nil
	}
	rc, err := clientcmd.BuildConfigFromFlags("", fl.kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("--kubeconfig: %w", err)
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	return nodesource.NewKube(nodesource.KubeConfig{Client: client}), nil
}
