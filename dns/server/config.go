package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"rudder/dns/plugin"
)

// ErrorReporter receives the errors handlers return (the reply was not
// written) and the server's own per-query failures. dns/log's Errors
// consolidates duplicates; without one the server logs each at Warn.
type ErrorReporter interface {
	Report(qname string, qtype uint16, err error)
}

// Config configures a Server.
type Config struct {
	// Addrs are the listen addresses, each served on UDP and TCP on the
	// same port ("host:port"; port 0 picks one, see Server.Addr).
	Addrs []string
	// Handler answers every accepted query (usually plugin.Chain(...)).
	Handler plugin.Handler
	// Logger is the server's logger (slog.Default when nil).
	Logger *slog.Logger
	// Errors receives handler errors; nil logs each at Warn.
	Errors ErrorReporter
	// Registerer takes the server's metrics (a private registry when nil).
	Registerer prometheus.Registerer

	// ReadTimeout bounds reading the first query on a TCP connection and
	// the body of every frame (default 2s).
	ReadTimeout time.Duration
	// WriteTimeout bounds writing one reply on TCP (default 2s).
	WriteTimeout time.Duration
	// IdleTimeout bounds the wait for the next query on a TCP connection
	// (default 8s, RFC 7766 suggests seconds).
	IdleTimeout time.Duration
	// MaxTCPQueries closes a TCP connection after that many queries; 0 or
	// less is unlimited.
	MaxTCPQueries int
	// MaxTCPConns caps open TCP connections; more are closed on accept
	// (default 1024).
	MaxTCPConns int
	// Lameduck keeps answering DNS for this long after the context ends
	// while /health and /ready answer 503 (default 0).
	Lameduck time.Duration
	// ShutdownTimeout bounds the wait for in-flight queries on shutdown
	// (default 5s); their context is cancelled after it.
	ShutdownTimeout time.Duration
}

func (c *Config) validate() error {
	if len(c.Addrs) == 0 {
		return errors.New("server: Config.Addrs is empty")
	}
	if c.Handler == nil {
		return errors.New("server: Config.Handler is nil")
	}
	for _, a := range c.Addrs {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return fmt.Errorf("server: listen address %q: %w", a, err)
		}
	}
	if c.Lameduck < 0 || c.ReadTimeout < 0 || c.WriteTimeout < 0 || c.IdleTimeout < 0 || c.ShutdownTimeout < 0 {
		return errors.New("server: negative duration in Config")
	}
	setDefault(&c.ReadTimeout, 2*time.Second)
	setDefault(&c.WriteTimeout, 2*time.Second)
	setDefault(&c.IdleTimeout, 8*time.Second)
	setDefault(&c.ShutdownTimeout, 5*time.Second)
	if c.MaxTCPConns <= 0 {
		c.MaxTCPConns = 1024
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Registerer == nil {
		c.Registerer = prometheus.NewRegistry()
	}
	return nil
}

func setDefault(d *time.Duration, v time.Duration) {
	if *d == 0 {
		*d = v
	}
}
