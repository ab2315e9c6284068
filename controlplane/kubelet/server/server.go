// Package server is the kubelet's HTTPS API, the one the apiserver
// forwards pods/log, pods/exec and pods/portforward to, with upstream's
// paths:
//
//	GET      /containerLogs/{namespace}/{pod}/{container}
//	GET|POST /exec/{namespace}/{pod}/{container}?command=…
//	GET|POST /portForward/{namespace}/{pod}
//	GET      /healthz, /metrics
//
// Exec and port-forward speak SPDY and WebSocket as upstream's kubelet does
// (the protocol framing comes from k8s.io/cri-streaming and
// k8s.io/streaming), plus the two forms upstream's apiserver otherwise
// translates: exec over WebSocket v5.channel.k8s.io and port-forward as
// SPDY tunnelled through a WebSocket.
//
// Authentication: every path but /healthz requires a client certificate
// signed by Config.ClientCAs (upstream's x509 authenticator). Authorization
// is not done yet: any authenticated client may do anything (upstream's
// AlwaysAllow mode).
package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults for the Config fields left zero.
const (
	DefaultAddr                  = ":10250"
	DefaultStreamIdleTimeout     = 4 * time.Hour
	DefaultStreamCreationTimeout = 30 * time.Second
	DefaultLogPollInterval       = 250 * time.Millisecond
	shutdownTimeout              = 5 * time.Second
)

// Config configures a Server.
type Config struct {
	// Addr is the address to listen on (DefaultAddr when empty).
	Addr string
	// NodeName and NodeIPs are the subject alternative names of the
	// generated serving certificate.
	NodeName string
	NodeIPs  []net.IP
	// CertDir holds kubelet.crt and kubelet.key; they are generated
	// (self-signed) when missing.
	CertDir string
	// ClientCAs verifies client certificates (required).
	ClientCAs *x509.CertPool
	// Provider is the kubelet's view of its pods (required).
	Provider Provider
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Registry receives the server's metrics and is served on /metrics;
	// a fresh registry when nil.
	Registry *prometheus.Registry
	// StreamIdleTimeout ends exec and port-forward sessions idle this
	// long; StreamCreationTimeout bounds the wait for a client's streams.
	StreamIdleTimeout     time.Duration
	StreamCreationTimeout time.Duration
	// LogPollInterval is how often a followed log file is checked for
	// new lines.
	LogPollInterval time.Duration
}

// Server serves the kubelet API over HTTPS.
type Server struct {
	cfg     Config
	log     *slog.Logger
	tls     *tls.Config
	handler http.Handler
	metrics *metrics

	mu sync.Mutex
	ln net.Listener
}

// New checks cfg, loads or creates the serving certificate and returns a
// Server that is not listening yet.
func New(cfg Config) (*Server, error) {
	if cfg.Provider == nil {
		return nil, errors.New("kubelet server: Config.Provider is required")
	}
	if cfg.ClientCAs == nil {
		return nil, errors.New("kubelet server: Config.ClientCAs is required")
	}
	if cfg.CertDir == "" {
		return nil, errors.New("kubelet server: Config.CertDir is required")
	}
	setDefaults(&cfg)
	cert, err := LoadOrCreateServingCert(cfg.CertDir, cfg.NodeName, cfg.NodeIPs)
	if err != nil {
		return nil, fmt.Errorf("kubelet server: %w", err)
	}
	m, err := newMetrics(cfg.Registry)
	if err != nil {
		return nil, fmt.Errorf("kubelet server: %w", err)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, metrics: m}
	s.tls = &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		// Verified per request (authenticate), so that a missing or
		// foreign certificate gets a 401 rather than a failed handshake.
		ClientAuth: tls.RequestClientCert,
		// Upgrades (SPDY, WebSocket) need HTTP/1.1.
		NextProtos: []string{"http/1.1"},
	}
	s.handler = s.routes()
	return s, nil
}

func setDefaults(cfg *Config) {
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.StreamIdleTimeout <= 0 {
		cfg.StreamIdleTimeout = DefaultStreamIdleTimeout
	}
	if cfg.StreamCreationTimeout <= 0 {
		cfg.StreamCreationTimeout = DefaultStreamCreationTimeout
	}
	if cfg.LogPollInterval <= 0 {
		cfg.LogPollInterval = DefaultLogPollInterval
	}
}

// Handler returns the server's routes without TLS (for embedding; the
// authentication still needs r.TLS from a TLS listener).
func (s *Server) Handler() http.Handler { return s.handler }

// Listen binds Config.Addr; Run calls it when it was not called before.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("kubelet server: listen on %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	return nil
}

// Addr returns the bound address, nil before Listen.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Run serves until ctx is done, then shuts down: the contexts of running
// requests (followed logs, exec and port-forward sessions) are cancelled
// and their handlers get a few seconds to return.
func (s *Server) Run(ctx context.Context) error {
	if err := s.Listen(); err != nil {
		return err
	}
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	reqCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	srv := &http.Server{
		Handler:           s.handler,
		TLSConfig:         s.tls,
		ReadHeaderTimeout: 30 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return reqCtx },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	errCh := make(chan error, 1)
	go func() { errCh <- srv.ServeTLS(ln, "", "") }()
	s.log.Info("kubelet server listening", "addr", ln.Addr().String())
	select {
	case err := <-errCh:
		return fmt.Errorf("kubelet server: serve: %w", err)
	case <-ctx.Done():
	}
	cancel()
	sctx, scancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer scancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("kubelet server: shutdown: %w", err)
	}
	return nil
}

// routes builds the mux; every route but /healthz is authenticated.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern, name string, h http.HandlerFunc, auth bool) {
		var hh http.Handler = h
		if auth {
			hh = s.authenticate(hh)
		}
		mux.Handle(pattern, s.metrics.instrument(name, hh))
	}
	handle("GET /healthz", "healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok"))
	}, false)
	handle("GET /metrics", "metrics", s.metrics.handler(s.cfg.Registry).ServeHTTP, true)
	handle("GET /containerLogs/{namespace}/{pod}/{container}", "containerLogs", s.serveLogs, true)
	for _, m := range []string{"GET", "POST"} {
		handle(m+" /exec/{namespace}/{pod}/{container}", "exec", s.serveExec, true)
		handle(m+" /portForward/{namespace}/{pod}", "portForward", s.servePortForward, true)
	}
	return mux
}

// authenticate lets through requests whose client certificate chains to
// Config.ClientCAs for client authentication, and answers 401 otherwise.
// There is no authorization step: an authenticated client may do anything.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, err := s.verifyClient(r)
		if err != nil {
			s.log.Debug("kubelet server: unauthenticated request", "path", r.URL.Path, "remote", r.RemoteAddr, "err", err)
			http.Error(w, "Unauthorized: "+err.Error(), http.StatusUnauthorized)
			return
		}
		s.log.Debug("kubelet server: request", "user", user, "method", r.Method, "path", r.URL.Path)
		next.ServeHTTP(w, r)
	})
}

func (s *Server) verifyClient(r *http.Request) (string, error) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return "", errors.New("a client certificate is required")
	}
	leaf := r.TLS.PeerCertificates[0]
	inter := x509.NewCertPool()
	for _, c := range r.TLS.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{
		Roots:         s.cfg.ClientCAs,
		Intermediates: inter,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return "", fmt.Errorf("verify client certificate %q: %w", leaf.Subject.CommonName, err)
	}
	return leaf.Subject.CommonName, nil
}
