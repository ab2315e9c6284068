package healthcheck

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// Service is one externalTrafficPolicy=Local service's health check.
type Service struct {
	Name           types.NamespacedName
	Port           uint16 // healthCheckNodePort
	LocalEndpoints int    // local ready endpoints
}

// Config configures Servers.
type Config struct {
	// Listen opens a health-check port; nil listens on TCP ":port".
	Listen func(port uint16) (net.Listener, error)
	// Proxy, if set, makes every service answer 503 while the proxy
	// itself is unhealthy (as kube-proxy does).
	Proxy  *Healthz
	Logger *slog.Logger
}

// Servers runs one HTTP server per health-check port.
type Servers struct {
	cfg     Config
	mu      sync.Mutex
	servers map[uint16]*server
}

type server struct {
	handler *serviceHandler
	http    *http.Server
}

// NewServers builds an empty set of servers.
func NewServers(cfg Config) *Servers {
	if cfg.Listen == nil {
		cfg.Listen = func(port uint16) (net.Listener, error) {
			return net.Listen("tcp", ":"+strconv.Itoa(int(port)))
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Servers{cfg: cfg, servers: map[uint16]*server{}}
}

// Update makes the running servers match services: it starts servers for
// new ports, stops those of ports no longer listed and updates the
// endpoint counts. It returns the errors of ports it could not open (and
// tries them again at the next Update).
func (s *Servers) Update(services []Service) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	want := map[uint16]Service{}
	for _, svc := range services {
		if svc.Port != 0 {
			want[svc.Port] = svc
		}
	}
	for port, srv := range s.servers {
		if w, ok := want[port]; !ok || w.Name != srv.handler.name {
			s.stop(port, srv)
		}
	}
	var errs []error
	for port, svc := range want {
		srv, ok := s.servers[port]
		if !ok {
			var err error
			if srv, err = s.start(svc); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		srv.handler.endpoints.Store(int64(svc.LocalEndpoints))
	}
	return errors.Join(errs...)
}

func (s *Servers) start(svc Service) (*server, error) {
	l, err := s.cfg.Listen(svc.Port)
	if err != nil {
		return nil, fmt.Errorf("health check for %s on port %d: %w", svc.Name, svc.Port, err)
	}
	h := &serviceHandler{name: svc.Name, proxy: s.cfg.Proxy}
	srv := &server{handler: h, http: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}}
	s.servers[svc.Port] = srv
	go func() {
		if err := srv.http.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.cfg.Logger.Error("health check server stopped", "service", svc.Name, "port", svc.Port, "err", err)
		}
	}()
	s.cfg.Logger.Info("health check server started", "service", svc.Name, "port", svc.Port)
	return srv, nil
}

func (s *Servers) stop(port uint16, srv *server) {
	_ = srv.http.Close()
	delete(s.servers, port)
	s.cfg.Logger.Info("health check server stopped", "service", srv.handler.name, "port", port)
}

// Close stops every server.
func (s *Servers) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for port, srv := range s.servers {
		s.stop(port, srv)
	}
}

// Ports is the ports being served, for tests and status.
func (s *Servers) Ports() []uint16 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []uint16
	for p := range s.servers {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}
