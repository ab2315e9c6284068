package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"rudder/ingress/controller"
	"rudder/ingress/proxy"
	"rudder/ingress/router"
)

// ingressFlags are `rudder ingress`'s flags; a --config file may set any.
type ingressFlags struct {
	config, kubeconfig  string
	httpAddr, httpsAddr string
	metricsAddr         string
	profiling           bool
	publish             []string
	router              router.Config
	proxy               proxy.Config
	minSync             time.Duration
}

// newIngressCommand is `rudder ingress`: the L7 ingress controller.
func newIngressCommand() *cobra.Command {
	fl := &ingressFlags{}
	cmd := &cobra.Command{
		Use:   "ingress",
		Short: "Run the ingress controller: an HTTP(S) reverse proxy driven by networking.k8s.io/v1 Ingresses",
		Long: `ingress serves the Ingresses of the IngressClasses whose controller is --controller
(default rudder.io/ingress) on --http-addr and --https-addr, sending requests straight to the
ready endpoints of the backend Services. TLS certificates come from kubernetes.io/tls
Secrets chosen by SNI; annotations under rudder.io/ (or nginx.ingress.kubernetes.io/, for
migration) tune routes. It writes the addresses it serves on into the Ingresses' status
(--publish-address, else every Node's address: run it as a DaemonSet with hostNetwork).
Every flag can also be given in a YAML --config file whose keys are the flag names.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if fl.config != "" {
				if err := applyConfigFile(cmd.Flags(), fl.config); err != nil {
					return err
				}
			}
			return runIngress(cmd.Context(), fl)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.config, "config", "", "YAML file of flag values (keys are flag names)")
	f.StringVar(&fl.kubeconfig, "kubeconfig", "", "kubeconfig file (empty: in-cluster credentials)")
	f.StringVar(&fl.httpAddr, "http-addr", ":80", "serve plain HTTP here (empty: off)")
	f.StringVar(&fl.httpsAddr, "https-addr", ":443", "serve HTTPS (HTTP/1.1 and HTTP/2) here (empty: off)")
	f.StringVar(&fl.metricsAddr, "metrics-addr", ":10254", "serve /metrics, /healthz and /configuration here (empty: off)")
	f.BoolVar(&fl.profiling, "profiling", false, "also serve Go's /debug/pprof/ on --metrics-addr")
	f.StringSliceVar(&fl.publish, "publish-address", nil, "addresses written to the Ingresses' status (default: every Node's InternalIP)")
	f.StringVar(&fl.router.Controller, "controller", "rudder.io/ingress", "serve the IngressClasses whose spec.controller is this")
	f.StringVar(&fl.router.DefaultBackend, "default-backend", "", `backend for requests no rule matches, "namespace/service:port" (default: 404)`)
	f.StringVar(&fl.router.DefaultCertificate, "default-ssl-certificate", "", `kubernetes.io/tls Secret, "namespace/name", served to TLS clients no Ingress has a certificate for (default: a generated one)`)
	f.BoolVar(&fl.router.WatchWithoutClass, "watch-ingress-without-class", false, "also serve Ingresses that name no class when no class is the default")
	f.BoolVar(&fl.proxy.H2C, "h2c", false, "accept cleartext HTTP/2 (h2c) on --http-addr")
	f.BoolVar(&fl.proxy.AccessLog, "access-log", false, "log every request")
	f.IntVar(&fl.proxy.MaxHeaderBytes, "max-header-bytes", 32<<10, "largest request header (431 past it)")
	f.DurationVar(&fl.proxy.ReadHeaderTimeout, "read-header-timeout", 10*time.Second, "time a client has to send its request header")
	f.DurationVar(&fl.proxy.ClientBodyTimeout, "client-body-timeout", 60*time.Second, "longest pause between reads of a request body")
	f.DurationVar(&fl.proxy.IdleTimeout, "idle-timeout", 75*time.Second, "how long an idle keep-alive client connection stays open")
	f.DurationVar(&fl.proxy.ClientSendTimeout, "client-send-timeout", 60*time.Second, "longest pause of a client in accepting a response before its connection is closed")
	f.DurationVar(&fl.proxy.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "on shutdown, how long in-flight requests may finish")
	f.DurationVar(&fl.minSync, "min-sync-interval", 100*time.Millisecond, "shortest time between two configuration rebuilds")
	return cmd
}

func runIngress(ctx context.Context, fl *ingressFlags) error {
	publish := make([]netip.Addr, 0, len(fl.publish))
	for _, s := range fl.publish {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return fmt.Errorf("--publish-address %q: %w", s, err)
		}
		publish = append(publish, a)
	}
	if fl.router.DefaultBackend != "" {
		if _, _, _, err := router.ParseServiceRef(fl.router.DefaultBackend); err != nil {
			return fmt.Errorf("--default-backend: %w", err)
		}
	}
	if fl.router.DefaultCertificate != "" {
		if _, _, err := router.ParseSecretRef(fl.router.DefaultCertificate); err != nil {
			return fmt.Errorf("--default-ssl-certificate: %w", err)
		}
	}
	rc, err := clientcmd.BuildConfigFromFlags("", fl.kubeconfig)
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	rc.UserAgent = "rudder-ingress"
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return fmt.Errorf("kubernetes client: %w", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	pcfg := fl.proxy
	pcfg.Logger, pcfg.Registerer = slog.Default(), reg
	p, err := proxy.New(pcfg)
	if err != nil {
		return err
	}
	ctl, err := controller.New(controller.Config{Client: client, Proxy: p, Router: fl.router,
		PublishAddresses: publish, MinSyncInterval: fl.minSync, Logger: slog.Default(), Metrics: controller.NewMetrics(reg)})
	if err != nil {
		return err
	}
	httpLn, httpsLn, err := ingressListeners(fl.httpAddr, fl.httpsAddr)
	if err != nil {
		return err
	}
	parts := []agentPart{
		{name: "controller", run: ctl.Run},
		{name: "proxy", run: func(ctx context.Context) error { return p.Serve(ctx, httpLn, httpsLn) }},
	}
	if fl.metricsAddr != "" {
		parts = append(parts, agentPart{name: "metrics", run: func(ctx context.Context) error {
			return serveMetrics(ctx, "ingress", fl.metricsAddr, reg, readyHandler(ctl.Ready), ingressDebugMux(ctl, fl.profiling))
		}})
	}
	return runAgentParts(ctx, parts)
}

// ingressListeners opens the proxy's listeners before anything runs, so
// a port in use is an error at start rather than a failing part later.
func ingressListeners(httpAddr, httpsAddr string) (httpLn, httpsLn net.Listener, err error) {
	if httpAddr != "" {
		if httpLn, err = net.Listen("tcp", httpAddr); err != nil {
			return nil, nil, fmt.Errorf("--http-addr: %w", err)
		}
	}
	if httpsAddr != "" {
		if httpsLn, err = net.Listen("tcp", httpsAddr); err != nil {
			if httpLn != nil {
				httpLn.Close()
			}
			return nil, nil, fmt.Errorf("--https-addr: %w", err)
		}
	}
	return httpLn, httpsLn, nil
}

// readyHandler answers 200 once ready() holds, 503 before.
func readyHandler(ready func() bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if !ready() {
			http.Error(w, "not ready: caches not synced or no configuration loaded yet", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
}

func ingressDebugMux(ctl *controller.Controller, profiling bool) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/configuration", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte(ctl.Dump()))
	})
	if profiling {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	}
	return mux
}
