package main

import (
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/spf13/cobra"

	"rudder/controlplane/server"
	"rudder/internal/buildinfo"
)

func newServerCommand() *cobra.Command {
	cfg := server.Config{}
	var advertise string
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the control plane: the Kubernetes API server over embedded bbolt or etcd",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if advertise != "" {
				if cfg.AdvertiseAddress = net.ParseIP(advertise); cfg.AdvertiseAddress == nil {
					return fmt.Errorf("--advertise-address %q is not an IP address", advertise)
				}
			}
			cfg.Version = buildinfo.Version()
			cfg.Logger = slog.Default()
			return server.Run(cmd.Context(), cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data-dir", "/var/lib/rudder/server", "directory for the database and certificates")
	f.StringVar(&cfg.BindAddress, "bind-address", "", "address to listen on (empty: all)")
	f.IntVar(&cfg.SecurePort, "secure-port", 6443, "HTTPS port of the API")
	f.StringVar(&advertise, "advertise-address", "", "address the kubernetes Service points at (default: first host address)")
	f.StringSliceVar(&cfg.TLSSANs, "tls-san", nil, "extra names or IPs for the serving certificate")
	f.StringVar(&cfg.KubeletCA, "kubelet-certificate-authority", "", "verify kubelet serving certificates against this CA bundle (unset: not verified, as upstream)")
	f.StringVar(&cfg.ServiceCIDR, "service-cidr", "10.96.0.0/12", "range of Service cluster IPs")
	f.StringVar(&cfg.NodePortRange, "service-node-port-range", "30000-32767", "range of Service node ports")
	f.StringVar(&cfg.TokenFile, "token-file", "", "static bearer tokens: token,user,uid[,\"group1,group2\"] per line")
	f.StringVar(&cfg.ServiceAccountIssuer, "service-account-issuer", server.DefaultServiceAccountIssuer, "iss of the service account tokens the server issues and accepts")
	f.StringVar(&cfg.WriteKubeconfig, "write-kubeconfig", "", "write an admin kubeconfig to this path")
	f.StringSliceVar(&cfg.EtcdEndpoints, "etcd-endpoints", nil, "etcd client URLs; empty: embedded bbolt in --data-dir")
	f.StringVar(&cfg.EtcdCAFile, "etcd-cafile", "", "CA to verify etcd")
	f.StringVar(&cfg.EtcdCertFile, "etcd-certfile", "", "client certificate for etcd")
	f.StringVar(&cfg.EtcdKeyFile, "etcd-keyfile", "", "client key for etcd")
	f.StringSliceVar(&cfg.Controllers, "controllers", []string{"*"}, `control loops to run: "*" for all, "-name" to disable one (e.g. "*,-scheduler")`)
	f.BoolVar(&cfg.LeaderElect, "leader-elect", true, "run the control loops only while holding the kube-system/rudder-controller-manager Lease")
	f.StringVar(&cfg.ClusterCIDR, "cluster-cidr", "10.244.0.0/16", "pod network; node IPAM gives each node a range of it")
	f.IntVar(&cfg.NodeCIDRMaskSize, "node-cidr-mask-size", 24, "prefix length of each node's pod range")
	f.DurationVar(&cfg.NodeMonitorGracePeriod, "node-monitor-grace-period", 40*time.Second, "how long a node may go without renewing its Lease before it is marked Unknown and tainted")
	return cmd
}
