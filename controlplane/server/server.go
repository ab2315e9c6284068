// Package server runs rudder's control plane process: certificates,
// storage, the API server and its listener, and background upkeep.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"k8s.io/apimachinery/pkg/version"

	"rudder/controlplane/apiserver"
	"rudder/controlplane/apiserver/authn"
	"rudder/controlplane/controllers"
	"rudder/controlplane/pki"
	"rudder/controlplane/storage"
	"rudder/controlplane/storage/bolt"
	"rudder/controlplane/storage/etcd"
)

// Config configures the control plane process.
type Config struct {
	DataDir          string
	BindAddress      string // host to listen on; "" for all
	SecurePort       int
	AdvertiseAddress net.IP // nil: the first non-loopback host address, else 127.0.0.1
	TLSSANs          []string
	// KubeletCA, when set, is a PEM bundle that kubelet serving
	// certificates must chain to; unset, as upstream without
	// --kubelet-certificate-authority, they are not verified (kubelets
	// serve self-signed certificates).
	KubeletCA     string
	ServiceCIDR   string
	NodePortRange string // "30000-32767"
	TokenFile     string
	// ServiceAccountIssuer is the iss of service account tokens (default
	// DefaultServiceAccountIssuer).
	ServiceAccountIssuer string
	WriteKubeconfig      string
	EtcdEndpoints        []string
	EtcdCAFile           string
	EtcdCertFile         string
	EtcdKeyFile          string
	Version              version.Info
	Logger               *slog.Logger
	// Controllers selects the control loops as upstream's --controllers
	// ("*", "-name", "name"); LeaderElect guards them with a Lease.
	Controllers []string
	LeaderElect bool
	// ClusterCIDR and NodeCIDRMaskSize drive node IPAM.
	ClusterCIDR      string
	NodeCIDRMaskSize int
	// NodeMonitorGracePeriod is how long a node may go without renewing
	// its Lease before it is marked Unknown (default 40s).
	NodeMonitorGracePeriod time.Duration
	// Ready, if set, is closed once the server accepts requests.
	Ready chan<- struct{}
}

// Run serves until ctx ends.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	log := cfg.Logger
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	_, svcNet, err := net.ParseCIDR(cfg.ServiceCIDR)
	if err != nil {
		return fmt.Errorf("--service-cidr %q: %w", cfg.ServiceCIDR, err)
	}
	base, size, err := parsePortRange(cfg.NodePortRange)
	if err != nil {
		return err
	}
	if cfg.AdvertiseAddress == nil {
		cfg.AdvertiseAddress = defaultAdvertise()
	}
	certs, err := ensureCerts(cfg, svcNet)
	if err != nil {
		return err
	}
	store, err := openStore(cfg, reg)
	if err != nil {
		return err
	}
	defer store.Close()
	auth := &authn.Authenticator{}
	if cfg.TokenFile != "" {
		if auth.Tokens, err = authn.LoadTokenFile(cfg.TokenFile); err != nil {
			return err
		}
	}
	sa, err := serviceAccounts(cfg)
	if err != nil {
		return err
	}
	api, err := apiserver.New(apiserver.Config{
		Store: store, Authenticator: auth, ServiceAccounts: sa, ServiceCIDR: svcNet, NodePortBase: base, NodePortSize: size,
		AdvertiseAddress: cfg.AdvertiseAddress, Port: cfg.SecurePort, Version: cfg.Version,
		Kubelet: apiserver.KubeletDialer{TLS: certs.kubeletClient}, Logger: log, Registerer: reg, Gatherer: reg,
		GarbageCollector:    controllers.Enabled(cfg.Controllers, "garbagecollector"),
		NamespaceController: controllers.Enabled(cfg.Controllers, "namespace"),
	})
	if err != nil {
		return err
	}
	if err := api.Bootstrap(ctx); err != nil {
		return err
	}
	if cfg.WriteKubeconfig != "" {
		if err := certs.kubeconfig(cfg).Write(cfg.WriteKubeconfig); err != nil {
			return fmt.Errorf("write kubeconfig: %w", err)
		}
		log.Info("wrote admin kubeconfig", "path", cfg.WriteKubeconfig)
	}
	go compactLoop(ctx, store, log)
	ready := make(chan struct{})
	outer := cfg.Ready
	cfg.Ready = ready
	errCh := make(chan error, 1)
	go func() { errCh <- serve(ctx, cfg, api.Handler(), certs.serving) }()
	select {
	case err := <-errCh:
		return err
	case <-ready:
	}
	if outer != nil {
		close(outer)
	}
	loops, err := controlLoops(cfg, certs.ca.PEM)
	if err != nil {
		return err
	}
	go func() {
		if err := controllers.Run(ctx, controllers.Config{Rest: certs.loopbackConfig(cfg), Enabled: cfg.Controllers,
			Loops: loops, LeaderElect: cfg.LeaderElect, Logger: log.With("component", "controllers")}); err != nil {
			log.Error("control loops stopped", "err", err)
		}
	}()
	return <-errCh
}

func serve(ctx context.Context, cfg Config, h http.Handler, tlsCfg *tls.Config) error {
	addr := net.JoinHostPort(cfg.BindAddress, strconv.Itoa(cfg.SecurePort))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, TLSConfig: tlsCfg, ReadHeaderTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug)}
	cfg.Logger.Info("serving the Kubernetes API", "addr", ln.Addr().String())
	if cfg.Ready != nil {
		close(cfg.Ready)
	}
	errCh := make(chan error, 1)
	go func() { errCh <- srv.Serve(tls.NewListener(ln, tlsCfg)) }()
	select {
	case err := <-errCh:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
	}
	return nil
}

func openStore(cfg Config, reg prometheus.Registerer) (storage.Store, error) {
	if len(cfg.EtcdEndpoints) > 0 {
		s, err := etcd.New(etcd.Config{Endpoints: cfg.EtcdEndpoints, CAFile: cfg.EtcdCAFile,
			CertFile: cfg.EtcdCertFile, KeyFile: cfg.EtcdKeyFile, Logger: cfg.Logger})
		if err != nil {
			return nil, fmt.Errorf("connect to etcd %v: %w", cfg.EtcdEndpoints, err)
		}
		return s, nil
	}
	dir := filepath.Join(cfg.DataDir, "db")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	s, err := bolt.Open(bolt.Config{Path: filepath.Join(dir, "state.db"), Logger: cfg.Logger, Registerer: reg})
	if err != nil {
		return nil, fmt.Errorf("open storage in %s: %w", dir, err)
	}
	return s, nil
}

// compactLoop compacts history older than five minutes, as upstream's
// apiserver does every five minutes over etcd.
func compactLoop(ctx context.Context, s storage.Store, log *slog.Logger) {
	const interval = 5 * time.Minute
	t := time.NewTicker(interval)
	defer t.Stop()
	var last int64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if last > 0 {
			if err := s.Compact(ctx, last); err != nil && !errors.Is(err, storage.ErrCompacted) {
				log.Warn("compact storage", "revision", last, "err", err)
			}
		}
		rev, err := s.Revision(ctx)
		if err == nil {
			last = rev
		}
	}
}

func parsePortRange(s string) (base, size int, err error) {
	lo, hi, ok := strings.Cut(s, "-")
	a, err1 := strconv.Atoi(lo)
	b, err2 := strconv.Atoi(hi)
	if !ok || err1 != nil || err2 != nil || a < 1 || b > 65535 || b < a {
		return 0, 0, fmt.Errorf("--service-node-port-range %q: want FROM-TO within 1-65535", s)
	}
	return a, b - a + 1, nil
}

func defaultAdvertise() net.IP {
	for _, ip := range pki.HostIPs() {
		if ip.To4() != nil && !ip.IsLoopback() {
			return ip
		}
	}
	return net.IPv4(127, 0, 0, 1)
}
