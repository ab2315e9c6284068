package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"rudder/cni/netd"
	"rudder/cni/netd/netstate"
	"rudder/cni/netd/nodesource"
	"rudder/dns/nodelocal"
)

// agentFlags are `rudder agent`'s flags: how to reach the server, the
// node's identity and paths, and which parts run.
type agentFlags struct {
	server, token, caFile, kubeconfig string
	nodeName, nodeIP, iface           string
	dataDir, cniConfDir, cniBinDir    string
	cniPlugin, netnsDir, cgroupRoot   string
	imageMap                          string
	overlay, proxyMode, iptMode       string
	clusterCIDR, clusterDNS, domain   string
	resolvConf, nodeLocalIP           string
	nodeLocalDNS                      bool
	kubeletPort, maxPods, leaseSecs   int
	kubelet, netd, proxy              bool
	metricsAddr                       string
	capacity, nodeLabels              map[string]string
}

// newAgentCommand is `rudder agent`: the kubelet, netd and the service
// proxy of one node in one process, k3s-style.
func newAgentCommand() *cobra.Command {
	fl := &agentFlags{}
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run a node: the kubelet, the overlay daemon (netd) and the service proxy in one process",
		Long: `agent joins a node to a cluster: --server URL --token T [--certificate-authority CA],
or --kubeconfig. Each part can be switched off (--kubelet=false, --netd=false, --proxy=false), so
the same binary runs beside another CNI or another proxy.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAgent(cmd.Context(), fl)
		},
	}
	host, _ := os.Hostname()
	f := cmd.Flags()
	f.StringVar(&fl.server, "server", "", "API server URL, e.g. https://198.18.0.254:6443")
	f.StringVar(&fl.token, "token", "", "bearer token to authenticate to the server")
	f.StringVar(&fl.caFile, "certificate-authority", "", "CA bundle of the server's certificate")
	f.StringVar(&fl.kubeconfig, "kubeconfig", "", "kubeconfig file (instead of --server/--token; empty with no --server: in-cluster)")
	f.StringVar(&fl.nodeName, "node-name", host, "this node's name")
	f.StringVar(&fl.nodeIP, "node-ip", "", "this node's InternalIP (empty: the address of --iface or of the default route's interface)")
	f.StringVar(&fl.iface, "iface", "", "underlay interface for the overlay (empty: the default route's)")
	f.StringVar(&fl.dataDir, "data-dir", "/var/lib/rudder/agent", "kubelet, IPAM and subnet state")
	f.StringVar(&fl.cniConfDir, "cni-conf-dir", "/etc/cni/net.d", "CNI configuration directory")
	f.StringVar(&fl.cniBinDir, "cni-bin-dir", "/opt/cni/bin", "CNI plugin directory")
	f.StringVar(&fl.cniPlugin, "cni-plugin", "", "rudder-cni binary installed into --cni-bin-dir as \"rudder\" (empty: rudder-cni next to this binary; \"none\": do not install)")
	f.StringVar(&fl.netnsDir, "netns-dir", "/run/netns", "where pod network namespaces are mounted")
	f.StringVar(&fl.cgroupRoot, "cgroup-root", "", "cgroup v2 directory for pods (empty: <cgroup2 mount>/rudder/<node-name>; \"none\": no cgroups)")
	f.StringVar(&fl.imageMap, "image-map", "", "file mapping image names to local programs (merged over the built-in map)")
	f.StringVar(&fl.overlay, "overlay", "vxlan", "overlay backend: vxlan or host-gw")
	f.StringVar(&fl.proxyMode, "proxy-mode", "nftables", "service proxy backend: nftables or iptables")
	f.StringVar(&fl.iptMode, "iptables-backend", "auto", "iptables flavour for --proxy-mode iptables: auto, legacy or nft")
	f.StringVar(&fl.clusterCIDR, "cluster-cidr", "10.244.0.0/16", "pod network of the whole cluster")
	f.StringVar(&fl.clusterDNS, "cluster-dns", "10.96.0.10", "cluster DNS service IP for ClusterFirst pods")
	f.StringVar(&fl.domain, "cluster-domain", "cluster.local", "cluster DNS domain")
	f.StringVar(&fl.resolvConf, "resolv-conf", "/etc/resolv.conf", "resolver configuration for pods with dnsPolicy Default (and the search list of ClusterFirst pods)")
	f.IntVar(&fl.kubeletPort, "kubelet-port", 10250, "port of the kubelet's HTTPS API (logs, exec, port-forward)")
	f.IntVar(&fl.maxPods, "max-pods", 110, "pods this node accepts")
	f.StringToStringVar(&fl.capacity, "capacity", nil, "override the capacity found on the machine, e.g. cpu=4,memory=8Gi,pods=50")
	f.StringToStringVar(&fl.nodeLabels, "node-labels", nil, "labels to add when registering the node, e.g. topology.kubernetes.io/zone=a")
	f.IntVar(&fl.leaseSecs, "node-lease-duration-seconds", 40, "duration of the node's heartbeat Lease; renewed every quarter of it")
	f.BoolVar(&fl.nodeLocalDNS, "node-local-dns", false, "run a node-local DNS cache on --node-local-dns-ip (no conntrack, TCP to --cluster-dns) and point ClusterFirst pods at it")
	f.StringVar(&fl.nodeLocalIP, "node-local-dns-ip", nodelocal.DefaultIP.String(), "link-local address of the node-local DNS cache")
	f.BoolVar(&fl.kubelet, "kubelet", true, "run the kubelet")
	f.BoolVar(&fl.netd, "netd", true, "run the overlay daemon")
	f.BoolVar(&fl.proxy, "proxy", true, "run the service proxy")
	f.StringVar(&fl.metricsAddr, "metrics-addr", ":10249", "serve /metrics and /healthz of all parts here (empty: off)")
	return cmd
}

// agentRESTConfig is how the agent reaches the API server.
func agentRESTConfig(fl *agentFlags) (*rest.Config, error) {
	if fl.server == "" {
		rc, err := clientcmd.BuildConfigFromFlags("", fl.kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("--kubeconfig: %w", err)
		}
		return rc, nil
	}
	if fl.token == "" {
		return nil, errors.New("--server needs --token")
	}
	rc := &rest.Config{Host: fl.server, BearerToken: fl.token}
	if fl.caFile != "" {
		rc.TLSClientConfig.CAFile = fl.caFile
	} else {
		slog.Warn("no --certificate-authority: the server's certificate is not verified")
		rc.TLSClientConfig.Insecure = true
	}
	return rc, nil
}

func runAgent(ctx context.Context, fl *agentFlags) error {
	rc, err := agentRESTConfig(fl)
	if err != nil {
		return err
	}
	rc.UserAgent = "rudder-agent/" + fl.nodeName
	rc.QPS, rc.Burst = 50, 100
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return fmt.Errorf("kubernetes client: %w", err)
	}
	if fl.nodeIP == "" {
		if fl.nodeIP, err = detectNodeIP(fl.iface); err != nil {
			return err
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var parts []agentPart
	health := http.NewServeMux()
	if fl.netd {
		p, err := agentNetd(fl, client, reg)
		if err != nil {
			return err
		}
		parts = append(parts, p)
		health.Handle("/healthz/netd", p.health)
	}
	if fl.proxy {
		p, err := agentProxy(ctx, fl, client, reg)
		if err != nil {
			return err
		}
		parts = append(parts, p)
		health.Handle("/healthz/proxy", p.health)
	}
	if fl.nodeLocalDNS {
		p, err := agentNodeLocalDNS(ctx, fl, reg)
		if err != nil {
			return err
		}
		parts = append(parts, p)
		health.Handle("/healthz/nodelocaldns", p.health)
	}
	if fl.kubelet {
		p, err := agentKubelet(fl, rc, client, reg)
		if err != nil {
			return err
		}
		parts = append(parts, p)
	}
	if fl.metricsAddr != "" {
		parts = append(parts, agentPart{name: "metrics", run: func(ctx context.Context) error {
			return serveMetrics(ctx, "agent", fl.metricsAddr, reg, agentHealthz(parts), health)
		}})
	}
	return runAgentParts(ctx, parts)
}

// agentPart is one component of the agent.
type agentPart struct {
	name   string
	run    func(ctx context.Context) error
	health http.Handler // nil: always healthy while running
}

// runAgentParts runs the parts until ctx ends or one of them fails; one
// part stopping stops them all.
func runAgentParts(ctx context.Context, parts []agentPart) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(parts))
	for _, p := range parts {
		go func() {
			err := p.run(ctx)
			if err != nil {
				err = fmt.Errorf("%s: %w", p.name, err)
			}
			errs <- err
		}()
	}
	var all []error
	for range parts {
		if err := <-errs; err != nil {
			all = append(all, err)
		}
		cancel()
	}
	return errors.Join(all...)
}

func agentNetd(fl *agentFlags, client kubernetes.Interface, reg prometheus.Registerer) (agentPart, error) {
	cfg := netd.DefaultConfig()
	var err error
	if cfg.Backend, err = netstate.ParseBackend(fl.overlay); err != nil {
		return agentPart{}, fmt.Errorf("--overlay: %w", err)
	}
	if cfg.ClusterCIDR, err = netip.ParsePrefix(fl.clusterCIDR); err != nil {
		return agentPart{}, fmt.Errorf("--cluster-cidr: %w", err)
	}
	cfg.NodeName, cfg.Underlay = fl.nodeName, fl.iface
	if cfg.Underlay == "" {
		cfg.Underlay = fl.nodeIP
	}
	cfg.SubnetFile = filepath.Join(fl.dataDir, "run", "subnet.env")
	cfg.CNIConfDir = fl.cniConfDir
	cfg.IPAMDataDir = filepath.Join(fl.dataDir, "ipam")
	d, err := netd.New(cfg, netd.Deps{Nodes: nodesource.NewKube(nodesource.KubeConfig{Client: client}),
		Registerer: reg, Logger: slog.Default().With("component", "netd")})
	if err != nil {
		return agentPart{}, err
	}
	return agentPart{name: "netd", run: d.Run, health: d.Healthz()}, nil
}

func agentProxy(ctx context.Context, fl *agentFlags, client kubernetes.Interface, reg prometheus.Registerer) (agentPart, error) {
	pf := &proxyFlags{mode: fl.proxyMode, hostname: fl.nodeName, clusterCIDR: fl.clusterCIDR,
		minSyncPeriod: time.Second, syncPeriod: 30 * time.Second}
	parts, err := newProxyParts(ctx, proxyBackends(&fl.iptMode), pf, client, reg)
	if err != nil {
		return agentPart{}, fmt.Errorf("proxy: %w", err)
	}
	run := func(ctx context.Context) error {
		defer parts.servers.Close()
		return runProxyParts(ctx, parts.view, parts.proxier, "", nil, nil)
	}
	return agentPart{name: "proxy", run: run, health: parts.healthz}, nil
}

// detectNodeIP is the first IPv4 address of iface, or of the interface
// holding the default route.
func detectNodeIP(iface string) (string, error) {
	if iface == "" {
		conn, err := net.Dial("udp4", "198.18.0.1:53") // no packet is sent: only a route lookup
		if err != nil {
			return "", fmt.Errorf("find the node IP (set --node-ip): %w", err)
		}
		defer conn.Close()
		return conn.LocalAddr().(*net.UDPAddr).IP.String(), nil
	}
	ifc, err := net.InterfaceByName(iface)
	if err != nil {
		return "", fmt.Errorf("--iface %s: %w", iface, err)
	}
	addrs, _ := ifc.Addrs()
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil {
			return ipn.IP.String(), nil
		}
	}
	return "", fmt.Errorf("--iface %s has no IPv4 address (set --node-ip)", iface)
}

// agentHealthz is healthy when every part with a health check is.
func agentHealthz(parts []agentPart) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, p := range parts {
			if p.health == nil {
				continue
			}
			rec := &statusRecorder{}
			p.health.ServeHTTP(rec, r)
			if rec.code >= 300 {
				http.Error(w, p.name+" not healthy", http.StatusServiceUnavailable)
				return
			}
		}
		_, _ = io.WriteString(w, "ok")
	})
}

// statusRecorder keeps only the status code of a response.
type statusRecorder struct {
	code int
	h    http.Header
}

func (s *statusRecorder) Header() http.Header {
	if s.h == nil {
		s.h = http.Header{}
	}
	return s.h
}
func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = 200
	}
	return len(b), nil
}
func (s *statusRecorder) WriteHeader(c int) { s.code = c }
