package proxy

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The wire path: plain-HTTP client connections are read by the proxy
// itself (with raw system calls, see rawio.go). A request it can relay without net/http (see parseRequest and
// wireRoute) is written to a pooled upstream connection and the response
// copied back, all on the connection's goroutine: four system calls and
// a handful of allocations per request, which is what brings the proxy to
// nginx's request rate. At the first request it cannot take, the
// connection, with the bytes already read, is handed to net/http for
// good.

const wireBufSize = 8 << 10

// wireServer accepts client connections and serves them on the wire
// path; handed-off connections reach net/http through its queue.
//
// On an HTTPS listener (tlsConfig set) the wire path does the TLS
// handshake itself: a connection that negotiates h2 goes to net/http
// whole, as a *tls.Conn, before anything is read from it (net/http's
// HTTP/2 server takes it from there); one that speaks HTTP/1.1 is served
// like a plain one over the *tls.Conn, and handed off to net/http's
// HTTP/1.1 server wrapped with its buffered bytes. That server runs for
// the HTTPS listener, so the handler still knows the scheme (listener.tls),
// not from Request.TLS, which the wrapper hides.
type wireServer struct {
	p         *Proxy
	l         *listener
	ln        net.Listener
	tlsConfig *tls.Config // nil: plain HTTP
	queue     *connQueue
	// readers and writers are the connections' buffers, reused.
	readers, writers sync.Pool

	mu      sync.Mutex
	conns   map[*wireConn]struct{}
	closing atomic.Bool
	wg      sync.WaitGroup
}

func newWireServer(p *Proxy, ln net.Listener, l *listener, tlsConfig *tls.Config) *wireServer {
	s := &wireServer{p: p, l: l, ln: ln, tlsConfig: tlsConfig, queue: newConnQueue(ln.Addr()), conns: map[*wireConn]struct{}{}}
	s.readers.New = func() any { return bufio.NewReaderSize(nil, wireBufSize) }
	s.writers.New = func() any { return bufio.NewWriterSize(nil, wireBufSize) }
	return s
}

// serve accepts until the listener is closed.
func (s *wireServer) serve() error {
	var delay time.Duration
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if s.closing.Load() || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		wc := &wireConn{s: s, c: c, remote: c.RemoteAddr().String(), now: time.Now()}
		if s.tlsConfig != nil {
			// The handshake is the connection's goroutine's.
			wc.c = tls.Server(withRawIO(c), s.tlsConfig)
		}
		if !s.track(wc) {
			c.Close()
			continue
		}
		s.p.metrics.active.Inc()
		go wc.serve()
	}
}

func (s *wireServer) track(wc *wireConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return false
	}
	s.conns[wc] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *wireServer) untrack(wc *wireConn) {
	s.mu.Lock()
	delete(s.conns, wc)
	s.mu.Unlock()
	s.wg.Done()
}

// shutdown stops accepting, closes idle connections and waits for the
// busy ones to finish their request, until deadline; then closes all.
func (s *wireServer) shutdown(deadline time.Time) {
	s.mu.Lock()
	s.closing.Store(true)
	s.mu.Unlock()
	s.ln.Close()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		s.mu.Lock()
		for wc := range s.conns {
			if wc.idle.Load() {
				wc.c.SetReadDeadline(aLongTimeAgo)
			}
		}
		s.mu.Unlock()
		select {
		case <-done:
			return
		case <-tick.C:
			if time.Now().After(deadline) {
				s.mu.Lock()
				for wc := range s.conns {
					wc.c.Close()
				}
				s.mu.Unlock()
				<-done
				return
			}
		}
	}
}

// wireConn is one client connection on the wire path.
type wireConn struct {
	s      *wireServer
	c      net.Conn
	remote string
	br     *bufio.Reader
	bw     *bufio.Writer
	idle   atomic.Bool // waiting for a request (closed first on shutdown)
	req    reqHead
	resp   respHead
	// headSent is set once the response head of the current request is
	// written: an error after it can only close the connection.
	headSent bool
	rdl      deadline // the client connection's read deadline
	wdl      deadline // and its write deadline
	// now is the time last read from the clock: at the end of the last
	// request (or the accept). The wire path reads the clock three times
	// per request (start, response head, end); on a VM each read is two
	// clock_gettime calls, which added up to 3 % of the proxy's CPU when
	// every step read its own.
	now time.Time
}

func (wc *wireConn) serve() {
	if tc, ok := wc.c.(*tls.Conn); ok {
		h2, err := wc.handshake(tc)
		if err != nil || h2 {
			if err != nil || !wc.s.queue.push(tc) {
				tc.Close()
			}
			wc.done()
			return
		}
	}
	wc.br = wc.s.readers.Get().(*bufio.Reader)
	var rw io.ReadWriter = wc.c
	if raw := newRawIO(wc.c); raw != nil {
		rw = raw
	}
	wc.br.Reset(rw)
	wc.bw = wc.s.writers.Get().(*bufio.Writer)
	wc.bw.Reset(rw)
	handedOff := false
	defer func() {
		wc.bw.Reset(nil)
		wc.s.writers.Put(wc.bw)
		if !handedOff {
			wc.c.Close()
			wc.br.Reset(nil)
			wc.s.readers.Put(wc.br)
		}
		wc.done()
	}()
	for {
		ok, err := wc.readHead()
		if err != nil {
			return
		}
		res := relayHandoff
		if ok {
			res = wc.relay()
		}
		switch {
		case res == relayHandoff:
			handedOff = wc.handoff()
			return
		case res == relayClose, wc.s.closing.Load(), wc.req.closeConn:
			return
		}
	}
}

// done forgets the connection: it is closed or net/http's now.
func (wc *wireConn) done() {
	wc.s.p.metrics.active.Dec()
	wc.s.untrack(wc)
}

// handshake runs the TLS handshake within the read-header timeout, as
// net/http does; h2 tells that the client chose HTTP/2. A failure is
// logged at debug level, like net/http's.
func (wc *wireConn) handshake(tc *tls.Conn) (h2 bool, err error) {
	p := wc.s.p
	tc.SetDeadline(time.Now().Add(p.cfg.ReadHeaderTimeout))
	if err := tc.Handshake(); err != nil {
		p.log.Debug("TLS handshake failed", "remote", wc.remote, "error", err)
		return false, err
	}
	tc.SetDeadline(time.Time{})
	wc.now = time.Now()
	return tc.ConnectionState().NegotiatedProtocol == "h2", nil
}

// readHead waits for the next request head. ok is false when the head
// is not for the wire path (then nothing of it has been consumed).
func (wc *wireConn) readHead() (ok bool, err error) {
	p := wc.s.p
	wc.idle.Store(true)
	if wc.s.closing.Load() {
		return false, net.ErrClosed
	}
	wc.rdl.extend(wc.c.SetReadDeadline, wc.now, p.cfg.IdleTimeout)
	if wc.br.Buffered() == 0 {
		runtime.Gosched() // as before reading a response (see roundTrip)
	}
	if _, err := wc.br.Peek(1); err != nil {
		return false, err
	}
	wc.idle.Store(false)
	deadlineSet := false
	for {
		buf, _ := wc.br.Peek(wc.br.Buffered())
		if i := bytes.Index(buf, crlf2); i >= 0 {
			return parseRequest(buf[:i+4], &wc.req), nil
		}
		if wc.br.Buffered() == wc.br.Size() || hasBareLF(buf) {
			// A large head (net/http answers 431 past MaxHeaderBytes), or
			// lines ending in a bare LF, which net/http reads and
			// CRLF CRLF never ends.
			return false, nil
		}
		if !deadlineSet {
			wc.rdl.set(wc.c.SetReadDeadline, time.Now().Add(p.cfg.ReadHeaderTimeout))
			deadlineSet = true
		}
		if _, err := wc.br.Peek(wc.br.Buffered() + 1); err != nil {
			return false, err
		}
	}
}

// handoff gives the connection, with what was read of it, to net/http.
func (wc *wireConn) handoff() bool {
	if err := wc.bw.Flush(); err != nil {
		return false
	}
	wc.rdl.set(wc.c.SetReadDeadline, time.Time{})
	if !wc.wdl.at.IsZero() { // past by now, maybe; net/http answers some heads (431) itself
		wc.wdl.set(wc.c.SetWriteDeadline, time.Time{})
	}
	return wc.s.queue.push(&bufferedConn{Conn: wc.c, r: wc.br})
}

// bufferedConn is a connection whose first bytes were already read into
// r.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// CloseWrite half-closes the connection, as net/http does before closing
// after an error response (so the client reads it rather than a reset).
func (c *bufferedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// connQueue is a net.Listener for http.Server fed with handed-off
// connections.
type connQueue struct {
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
	addr net.Addr
}

func newConnQueue(addr net.Addr) *connQueue {
	return &connQueue{ch: make(chan net.Conn), done: make(chan struct{}), addr: addr}
}

func (q *connQueue) push(c net.Conn) bool {
	select {
	case q.ch <- c:
		return true
	case <-q.done:
		return false
	}
}

func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.ch:
		return c, nil
	case <-q.done:
		return nil, net.ErrClosed
	}
}

func (q *connQueue) Close() error {
	q.once.Do(func() { close(q.done) })
	return nil
}

func (q *connQueue) Addr() net.Addr { return q.addr }
