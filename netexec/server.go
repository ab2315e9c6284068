// Package netexec is the test workload of rudder, the role agnhost netexec
// plays upstream: an HTTP server with small diagnostic endpoints, a UDP and
// a TCP echo server, and a graceful shutdown that fails /healthz first.
package netexec

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultDialTimeout bounds one /dial attempt when Config.DialTimeout is 0.
const DefaultDialTimeout = 5 * time.Second

// shutdownTimeout bounds the wait for in-flight requests once the graceful
// period is over.
const shutdownTimeout = 30 * time.Second

// Config configures a Server.
type Config struct {
	// HTTPAddr is the HTTP listen address, e.g. ":8080" (required).
	HTTPAddr string
	// UDPAddr and TCPAddr are the echo servers' addresses; empty is off.
	UDPAddr string
	TCPAddr string
	// GracefulShutdown is how long the servers keep serving, with /healthz
	// failing, once Run's context is done; 0 stops at once.
	GracefulShutdown time.Duration
	// Hostname answers /hostname and "hostname" requests; empty is
	// os.Hostname().
	Hostname string
	// DialTimeout bounds one /dial attempt; 0 is DefaultDialTimeout.
	DialTimeout time.Duration
	// Logger receives the logs; nil is slog.Default().
	Logger *slog.Logger
}

// ExitError is returned by Run when a client asked the process to exit with
// a non-zero code (/exit?code=N).
type ExitError struct{ Code int }

// Error says which exit code was requested.
func (e *ExitError) Error() string { return fmt.Sprintf("exit requested with code %d", e.Code) }

// Server is a running netexec: its listeners are bound by New.
type Server struct {
	cfg      Config
	log      *slog.Logger
	hostname string

	httpLn net.Listener
	udp    net.PacketConn
	tcpLn  net.Listener
	http   *http.Server

	failing  atomic.Bool // set by /healthz/fail
	draining atomic.Bool // set when the graceful shutdown starts
	exit     chan int

	mu         sync.Mutex
	tcpConns   map[net.Conn]struct{}
	echoClosed bool
	wg         sync.WaitGroup
}

// New validates cfg and binds the listeners.
func New(cfg Config) (*Server, error) {
	if cfg.HTTPAddr == "" {
		return nil, errors.New("netexec: an HTTP address is required")
	}
	if cfg.GracefulShutdown < 0 {
		return nil, fmt.Errorf("netexec: graceful shutdown %s is negative", cfg.GracefulShutdown)
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	s := &Server{cfg: cfg, log: cfg.Logger, hostname: cfg.Hostname, exit: make(chan int, 1), tcpConns: map[net.Conn]struct{}{}}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.hostname == "" {
		h, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("netexec: read the hostname: %w", err)
		}
		s.hostname = h
	}
	if err := s.listen(); err != nil {
		s.closeListeners()
		return nil, err
	}
	s.http = &http.Server{Handler: s.handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	return s, nil
}

func (s *Server) listen() error {
	var err error
	if s.httpLn, err = net.Listen("tcp", s.cfg.HTTPAddr); err != nil {
		return fmt.Errorf("netexec: listen for HTTP on %s: %w", s.cfg.HTTPAddr, err)
	}
	if s.cfg.UDPAddr != "" {
		if s.udp, err = net.ListenPacket("udp", s.cfg.UDPAddr); err != nil {
			return fmt.Errorf("netexec: listen for UDP on %s: %w", s.cfg.UDPAddr, err)
		}
	}
	if s.cfg.TCPAddr != "" {
		if s.tcpLn, err = net.Listen("tcp", s.cfg.TCPAddr); err != nil {
			return fmt.Errorf("netexec: listen for TCP on %s: %w", s.cfg.TCPAddr, err)
		}
	}
	return nil
}

// HTTPAddr is the bound HTTP address.
func (s *Server) HTTPAddr() net.Addr { return s.httpLn.Addr() }

// UDPAddr is the bound UDP echo address, nil when off.
func (s *Server) UDPAddr() net.Addr {
	if s.udp == nil {
		return nil
	}
	return s.udp.LocalAddr()
}

// TCPAddr is the bound TCP echo address, nil when off.
func (s *Server) TCPAddr() net.Addr {
	if s.tcpLn == nil {
		return nil
	}
	return s.tcpLn.Addr()
}

// Run serves until ctx is done, then shuts down gracefully: /healthz fails
// at once, requests are served for Config.GracefulShutdown, then in-flight
// requests are drained. A client's /shutdown or /exit stops it at once:
// Run returns nil for code 0 and an *ExitError otherwise.
func (s *Server) Run(ctx context.Context) error {
	errc := make(chan error, 3)
	s.start(errc)
	s.log.Info("netexec serving", "http", s.HTTPAddr().String(), "udp", addrString(s.UDPAddr()),
		"tcp", addrString(s.TCPAddr()), "hostname", s.hostname, "gracefulShutdown", s.cfg.GracefulShutdown)
	select {
	case <-ctx.Done():
		return s.gracefulStop()
	case code := <-s.exit:
		return s.exitNow(code)
	case err := <-errc:
		s.stopNow()
		return err
	}
}

func (s *Server) start(errc chan<- error) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.http.Serve(s.httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("netexec: serve HTTP: %w", err)
		}
	}()
	if s.udp != nil {
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.serveUDP() }()
	}
	if s.tcpLn != nil {
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.serveTCP() }()
	}
}

func (s *Server) gracefulStop() error {
	s.draining.Store(true)
	s.http.SetKeepAlivesEnabled(false)
	s.log.Info("netexec shutting down", "gracefulShutdown", s.cfg.GracefulShutdown)
	if s.cfg.GracefulShutdown > 0 {
		t := time.NewTimer(s.cfg.GracefulShutdown)
		defer t.Stop()
		select {
		case <-t.C:
		case code := <-s.exit:
			return s.exitNow(code)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err := s.http.Shutdown(ctx)
	s.closeEcho()
	s.wg.Wait()
	if err != nil {
		return fmt.Errorf("netexec: drain HTTP requests: %w", err)
	}
	s.log.Info("netexec stopped")
	return nil
}

func (s *Server) exitNow(code int) error {
	s.log.Info("netexec exiting on request", "code", code)
	s.stopNow()
	if code == 0 {
		return nil
	}
	return &ExitError{Code: code}
}

func (s *Server) stopNow() {
	_ = s.http.Close()
	s.closeEcho()
	s.wg.Wait()
}

// closeEcho stops the echo servers and their open connections.
func (s *Server) closeEcho() {
	if s.udp != nil {
		_ = s.udp.Close()
	}
	if s.tcpLn != nil {
		_ = s.tcpLn.Close()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.echoClosed = true
	for c := range s.tcpConns {
		_ = c.Close()
	}
}

// closeListeners undoes a partly failed New.
func (s *Server) closeListeners() {
	if s.httpLn != nil {
		_ = s.httpLn.Close()
	}
	s.closeEcho()
}

// requestExit asks Run to stop with code; only the first request counts.
func (s *Server) requestExit(code int) {
	select {
	case s.exit <- code:
	default:
	}
}

func addrString(a net.Addr) string {
	if a == nil {
		return "off"
	}
	return a.String()
}
