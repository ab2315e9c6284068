// Package server is the DNS server under the handler chain: it listens on
// UDP and TCP, rejects malformed queries before any handler sees them,
// runs the chain, writes the error reply a handler leaves to it, and
// scrubs every reply (EDNS0 mirrored, truncated with TC to what the client
// takes). It also serves /health and /ready.
//
// Bad input: a packet shorter than a header or with QR=1 is dropped
// without a reply (replying could amplify or loop); an opcode other than
// QUERY gets NOTIMP; no question or more than one, records in the answer
// section, more than two additional records, anything that does not
// unpack, two OPTs, and AXFR over UDP (RFC 5936 only allows TCP) get
// FORMERR; an EDNS version above 0 gets BADVERS. Over TCP a dropped or
// FORMERR query also closes the connection, as do frames shorter than a
// header and frames that do not arrive whole within ReadTimeout.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"rudder/dns/plugin"
)

// Server serves one handler chain on a set of addresses.
type Server struct {
	cfg Config
	log *slog.Logger
	m   *serverMetrics

	ctx context.Context // handlers' context, cancelled after shutdown

	mu       sync.Mutex
	udp      []*net.UDPConn
	tcp      []net.Listener
	conns    map[net.Conn]struct{}
	readyFns []readyFunc

	started  chan struct{}
	served   atomic.Bool    // Serve was called
	pktinfo  bool           // tests: use the wildcard-address UDP path on 127.0.0.1
	serving  atomic.Bool    // listeners open, not in lameduck
	stopping atomic.Bool    // reading stops
	workers  sync.WaitGroup // readers, acceptors and connections; queries are served on them
}

// New checks cfg and makes a Server; Serve starts it.
func New(cfg Config) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	m, err := newServerMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, m: m, conns: map[net.Conn]struct{}{}, started: make(chan struct{})}
	s.ctx = context.Background()
	return s, nil
}

// Serve listens on every address (UDP and TCP) and serves until ctx ends,
// then stays in lameduck for Config.Lameduck, stops reading, waits up to
// ShutdownTimeout for in-flight queries and returns nil. An error means a
// listener could not be opened. Serve may be called once.
func (s *Server) Serve(ctx context.Context) error {
	if !s.served.CompareAndSwap(false, true) {
		return errors.New("server: Serve called twice")
	}
	if err := s.listen(); err != nil {
		s.closeListeners()
		return err
	}
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	s.ctx = hctx
	s.mu.Lock()
	for _, c := range s.udp {
		s.serveUDPConn(c)
	}
	for _, l := range s.tcp {
		s.workers.Add(1)
		go s.acceptTCP(l)
	}
	s.mu.Unlock()
	s.serving.Store(true)
	close(s.started)
	s.log.Info("dns server serving", "addrs", s.listenAddrs())

	<-ctx.Done()
	s.serving.Store(false)
	if s.cfg.Lameduck > 0 {
		s.log.Info("dns server in lameduck", "duration", s.cfg.Lameduck)
		time.Sleep(s.cfg.Lameduck)
	}
	s.shutdown(cancel)
	return nil
}

// Started is closed once the listeners are open (Addr is then set).
func (s *Server) Started() <-chan struct{} { return s.started }

// Ready tells whether the server is serving and not in lameduck.
func (s *Server) Ready() bool { return s.serving.Load() }

// Addr is the first listener's address for "udp" or "tcp", nil before
// Serve has opened it. Tests that listen on port 0 read it.
func (s *Server) Addr(proto string) net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case proto == "udp" && len(s.udp) > 0:
		return s.udp[0].LocalAddr()
	case proto == "tcp" && len(s.tcp) > 0:
		return s.tcp[0].Addr()
	}
	return nil
}

// shutdown stops reading, waits for in-flight queries (bounded), cancels
// handlers and closes everything.
func (s *Server) shutdown(cancel context.CancelFunc) {
	s.stopping.Store(true)
	past := time.Unix(1, 0)
	s.mu.Lock()
	for _, c := range s.udp {
		_ = c.SetReadDeadline(past)
	}
	for _, l := range s.tcp {
		_ = l.Close()
	}
	for c := range s.conns {
		_ = c.SetReadDeadline(past)
	}
	s.mu.Unlock()

	done := make(chan struct{})
	go func() {
		s.workers.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(s.cfg.ShutdownTimeout):
		s.log.Warn("dns server shutdown timed out waiting for queries", "timeout", s.cfg.ShutdownTimeout)
		cancel()
	}
	s.closeListeners()
	s.log.Info("dns server stopped")
}

func (s *Server) closeListeners() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.udp {
		_ = c.Close()
	}
	for _, l := range s.tcp {
		_ = l.Close()
	}
	for c := range s.conns {
		_ = c.Close()
	}
}

// serveRaw is the request path for one packet: decode, reject or run the
// chain. It returns false when a TCP connection should be closed.
func (s *Server) serveRaw(b []byte, w *writer) bool {
	w.qbytes = len(b)
	r, v, why := decode(b, w.kind != tcpConn)
	if v == accept {
		s.serveQuery(r, w)
		return true
	}
	s.m.invalid[why].Inc()
	if v == drop {
		return false
	}
	w.req = r
	_ = w.WriteMsg(rejectReply(b, r, v))
	return v != formErr
}

// rejectReply is the error reply for a rejected query: the query's ID,
// opcode and RD bit, and its question when it was parsed.
func rejectReply(b []byte, r *dns.Msg, v verdict) *dns.Msg {
	m := new(dns.Msg)
	if r != nil {
		m.SetReply(r)
	} else {
		m.Id = uint16(b[0])<<8 | uint16(b[1])
		m.Response = true
		m.Opcode = int(b[2]>>3) & 0xF
		m.RecursionDesired = b[2]&1 != 0
	}
	switch v {
	case notImp:
		m.Rcode = dns.RcodeNotImplemented
	case badVers:
		m.Rcode = dns.RcodeBadVers
	default:
		m.Rcode = dns.RcodeFormatError
	}
	return m
}

// serveQuery runs the chain on an accepted query and writes the error
// reply when the chain wrote nothing.
func (s *Server) serveQuery(r *dns.Msg, w *writer) {
	w.req = r
	rcode, err := s.call(r, w)
	if err != nil {
		s.report(r, err)
	}
	if w.written {
		return
	}
	if plugin.ClientWrite(rcode) {
		s.report(r, fmt.Errorf("handler %s returned %s without writing a reply", s.cfg.Handler.Name(), dns.RcodeToString[rcode]))
		rcode = dns.RcodeServerFailure
	}
	m := new(dns.Msg)
	m.SetRcode(r, rcode)
	_ = w.WriteMsg(m)
}

// call runs the handler, turning a panic into SERVFAIL.
func (s *Server) call(r *dns.Msg, w *writer) (rcode int, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.m.panics.Inc()
			s.log.Error("dns handler panicked", "qname", qname(r), "panic", p, "stack", string(debug.Stack()))
			rcode, err = dns.RcodeServerFailure, nil
		}
	}()
	return s.cfg.Handler.ServeDNS(s.ctx, w, r)
}

// report hands a handler error to the ErrorReporter, or logs it.
func (s *Server) report(r *dns.Msg, err error) {
	var qtype uint16
	if r != nil && len(r.Question) > 0 {
		qtype = r.Question[0].Qtype
	}
	if s.cfg.Errors != nil {
		s.cfg.Errors.Report(qname(r), qtype, err)
		return
	}
	s.log.Warn("dns query failed", "qname", qname(r), "qtype", dns.Type(qtype).String(), "err", err)
}

func (s *Server) listenAddrs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.udp))
	for _, c := range s.udp {
		out = append(out, c.LocalAddr().String())
	}
	return out
}

// isClosed tells whether err comes from a closed listener or a deadline
// set by shutdown.
func (s *Server) isClosed(err error) bool {
	return errors.Is(err, net.ErrClosed) || s.stopping.Load()
}
