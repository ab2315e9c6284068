// Package proxy is the ingress dataplane: an HTTP(S) reverse proxy that
// serves every request according to the current route.Table. A new
// configuration is swapped in whole (Swap); a request keeps the table it
// started with, and listeners never restart.
package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"rudder/ingress/route"
)

// Defaults for the zero values of Config and route.Policy.
const (
	DefaultMaxHeaderBytes    = 32 << 10
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultClientBodyTimeout = 60 * time.Second
	DefaultIdleTimeout       = 75 * time.Second
	DefaultClientSendTimeout = 60 * time.Second
	DefaultShutdownTimeout   = 30 * time.Second
	DefaultConnectTimeout    = 5 * time.Second
	DefaultReadTimeout       = 60 * time.Second
	DefaultSendTimeout       = 60 * time.Second
)

// Config configures a Proxy. Zero values take the defaults above.
type Config struct {
	// Logger receives errors and, with AccessLog, one line per request.
	Logger *slog.Logger
	// Registerer receives the proxy's metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// DefaultCertificate is served when no Ingress has a certificate for
	// the requested name; nil generates a self-signed one.
	DefaultCertificate *tls.Certificate
	// H2C accepts cleartext HTTP/2 (prior knowledge) on the HTTP listener.
	H2C bool
	// MaxHeaderBytes bounds the request header (431 past it).
	MaxHeaderBytes int
	// ReadHeaderTimeout bounds reading a request's header.
	ReadHeaderTimeout time.Duration
	// ClientBodyTimeout is the time allowed between two reads of a
	// request body (slow-client protection).
	ClientBodyTimeout time.Duration
	// IdleTimeout closes keep-alive connections idle that long.
	IdleTimeout time.Duration
	// ClientSendTimeout is the longest a client may take to accept more
	// of a response before the proxy closes its connection (nginx's
	// send_timeout): a pause, not the whole response.
	ClientSendTimeout time.Duration
	// AccessLog logs one line per request.
	AccessLog bool
	// Resolver resolves ExternalName backends; nil is net.DefaultResolver.
	Resolver *net.Resolver
	// ShutdownTimeout bounds the wait for in-flight requests when Serve's
	// context ends.
	ShutdownTimeout time.Duration
	// NoWirePath serves every plain-HTTP request through net/http, not
	// only those the wire path cannot take (see wireconn.go).
	NoWirePath bool
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.MaxHeaderBytes <= 0 {
		c.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if c.ReadHeaderTimeout <= 0 {
		c.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if c.ClientBodyTimeout <= 0 {
		c.ClientBodyTimeout = DefaultClientBodyTimeout
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.ClientSendTimeout <= 0 {
		c.ClientSendTimeout = DefaultClientSendTimeout
	}
	if c.Resolver == nil {
		c.Resolver = net.DefaultResolver
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
}

// Proxy is the ingress reverse proxy. It is safe for concurrent use.
type Proxy struct {
	cfg         Config
	log         *slog.Logger
	gen         atomic.Pointer[generation]
	defaultCert *tls.Certificate
	endpoints   *endpointSet
	limiter     *rateLimiter
	metrics     *metrics
	upstream    *upstream
	rp          *httputil.ReverseProxy
	tlsConfig   *tls.Config
	dates       dateCache
}

// New builds a Proxy. It serves 503 until the first Swap.
func New(cfg Config) (*Proxy, error) {
	cfg.setDefaults()
	p := &Proxy{
		cfg:       cfg,
		log:       cfg.Logger,
		endpoints: newEndpointSet(),
		limiter:   newRateLimiter(defaultMaxBuckets),
	}
	p.defaultCert = cfg.DefaultCertificate
	if p.defaultCert == nil {
		cert, err := selfSignedCertificate(time.Now())
		if err != nil {
			return nil, fmt.Errorf("generate the default certificate: %w", err)
		}
		p.defaultCert = cert
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("register ingress proxy metrics: %w", err)
	}
	p.metrics = m
	p.upstream = newUpstream(p, cfg.Resolver)
	p.rp = &httputil.ReverseProxy{
		Rewrite:   p.rewrite,
		Transport: p.upstream,
		// 0, not -1: ReverseProxy already flushes every write of
		// streamed responses (unknown length, text/event-stream, so gRPC
		// too); -1 would also flush the headers of every fixed-length
		// response on their own, from a timer: a second write per
		// response, ~40% of the proxy's CPU at 1 KiB responses.
		FlushInterval:  0,
		BufferPool:     newBufferPool(256, 32<<10),
		ErrorLog:       slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug),
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   p.errorHandler,
	}
	p.tlsConfig = &tls.Config{
		GetCertificate: p.getCertificate,
		NextProtos:     []string{"h2", "http/1.1"},
		MinVersion:     tls.VersionTLS12,
	}
	return p, nil
}

// Swap publishes a new route table. Requests already started finish
// with the table they started with. A nil table unloads the
// configuration: requests get 503 again.
func (p *Proxy) Swap(t route.Table) {
	if t == nil {
		p.gen.Store(nil)
		return
	}
	p.gen.Store(newGeneration(t, p))
	p.endpoints.sweep(time.Now())
}

// Handler is the proxy as an http.Handler, for callers that run their own
// servers. The listener's scheme and port come from each request.
func (p *Proxy) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.serve(w, r, listenerOf(r))
	})
}

// TLSConfig is the server TLS configuration: the certificate is chosen by
// SNI from the current table, else the default certificate.
func (p *Proxy) TLSConfig() *tls.Config {
	return p.tlsConfig.Clone()
}

func (p *Proxy) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	g := p.gen.Load()
	if g == nil {
		return p.defaultCert, nil
	}
	if hello.ServerName != "" {
		if c := g.table.Certificate(lowerASCII(hello.ServerName)); c != nil {
			return c, nil
		}
	}
	if c := g.table.DefaultCertificate(); c != nil {
		return c, nil
	}
	return p.defaultCert, nil
}

// Serve serves HTTP on httpLn and HTTPS on httpsLn (either may be nil)
// until ctx ends, then shuts down gracefully: it stops accepting and lets
// in-flight requests finish for up to ShutdownTimeout.
func (p *Proxy) Serve(ctx context.Context, httpLn, httpsLn net.Listener) error {
	if httpLn == nil && httpsLn == nil {
		return errors.New("serve ingress proxy: no listener")
	}
	var servers []*http.Server
	var wires []*wireServer
	errc := make(chan error, 4)
	nserve := 0
	if httpLn != nil {
		l := listenerFor(httpLn, false)
		srv := p.server(l)
		protos := new(http.Protocols)
		protos.SetHTTP1(true)
		protos.SetUnencryptedHTTP2(p.cfg.H2C)
		srv.Protocols = protos
		servers = append(servers, srv)
		ln := httpLn
		if !p.cfg.NoWirePath {
			wire := newWireServer(p, httpLn, l, nil)
			wires = append(wires, wire)
			ln = wire.queue
			nserve++
			go func() { errc <- wrapServe("http", wire.serve()) }()
		}
		nserve++
		go func() { errc <- wrapServe("http", srv.Serve(ln)) }()
	}
	if httpsLn != nil {
		l := listenerFor(httpsLn, true)
		srv := p.server(l)
		srv.TLSConfig = p.TLSConfig()
		servers = append(servers, srv)
		nserve++
		if p.cfg.NoWirePath {
			go func() { errc <- wrapServe("https", srv.ServeTLS(httpsLn, "", "")) }()
		} else {
			// net/http gets the connections from the wire path, h2 ones
			// as *tls.Conn (srv.TLSConfig's NextProtos turn its HTTP/2
			// on).
			tw := newWireServer(p, httpsLn, l, p.tlsConfig)
			wires = append(wires, tw)
			nserve++
			go func() { errc <- wrapServe("https", tw.serve()) }()
			go func() { errc <- wrapServe("https", srv.Serve(tw.queue)) }()
		}
	}
	var first error
	select {
	case <-ctx.Done():
	case first = <-errc:
	}
	p.shutdown(servers, wires)
	for range nserve - boolInt(first != nil) {
		if err := <-errc; err != nil && first == nil {
			first = err
		}
	}
	return first
}

func wrapServe(what string, err error) error {
	if err == nil || errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("serve %s: %w", what, err)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (p *Proxy) shutdown(servers []*http.Server, wires []*wireServer) {
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.ShutdownTimeout)
	defer cancel()
	var wg sync.WaitGroup
	deadline, _ := ctx.Deadline()
	for _, w := range wires {
		wg.Go(func() { w.shutdown(deadline) })
	}
	for _, srv := range servers {
		wg.Go(func() {
			if err := srv.Shutdown(ctx); err != nil {
				p.log.Warn("ingress proxy shutdown timed out, closing connections", "error", err)
				srv.Close()
			}
		})
	}
	wg.Wait()
}

func (p *Proxy) server(l *listener) *http.Server {
	return &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p.serve(w, r, l)
		}),
		ReadHeaderTimeout: p.cfg.ReadHeaderTimeout,
		IdleTimeout:       p.cfg.IdleTimeout,
		MaxHeaderBytes:    p.cfg.MaxHeaderBytes,
		ConnState:         p.metrics.connState,
		ErrorLog:          slog.NewLogLogger(p.log.Handler(), slog.LevelDebug),
	}
}
