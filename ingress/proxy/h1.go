package proxy

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// The fast path: idempotent requests without a body (most of an
// ingress's traffic) to HTTP/1.1 backends are written and their
// responses read on the handler's own goroutine, over a per-endpoint
// pool of keep-alive connections. net/http's Transport hands every
// request to two goroutines per connection; skipping those hand-offs is
// what brings the proxy to nginx's request rate. Everything else
// (bodies, upgrades, TLS, HTTP/2) goes through http.Transport.

const (
	// MaxIdlePerEndpoint is how many idle keep-alive connections the
	// proxy keeps per endpoint (benchmarks size nginx's cache from it).
	MaxIdlePerEndpoint = 256
	idleConnTimeout    = 90 * time.Second
)

// h1Conn is one keep-alive connection to an endpoint.
type h1Conn struct {
	c         net.Conn
	br        *bufio.Reader
	bw        *bufio.Writer
	idleSince time.Time
	// dl is the deadline the wire path left on the connection (it keeps
	// one across requests, see deadline); zero when none is set.
	dl deadline
}

// h1Pool holds an endpoint's idle connections, most recent last.
type h1Pool struct {
	mu   sync.Mutex
	idle []*h1Conn
}

// get takes the most recently used idle connection, closing the ones
// idle too long.
func (p *h1Pool) get(now time.Time) *h1Conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	for n := len(p.idle); n > 0; n = len(p.idle) {
		pc := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		if now.Sub(pc.idleSince) < idleConnTimeout {
			return pc
		}
		pc.c.Close()
	}
	return nil
}

// put returns a connection to the pool, evicting the oldest one when it
// is stale or the pool is full.
func (p *h1Pool) put(pc *h1Conn, now time.Time) {
	pc.idleSince = now
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.idle) > 0 && (len(p.idle) >= MaxIdlePerEndpoint || now.Sub(p.idle[0].idleSince) >= idleConnTimeout) {
		p.idle[0].c.Close()
		copy(p.idle, p.idle[1:])
		p.idle[len(p.idle)-1] = nil
		p.idle = p.idle[:len(p.idle)-1]
	}
	p.idle = append(p.idle, pc)
}

// closeAll closes every idle connection.
func (p *h1Pool) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pc := range p.idle {
		pc.c.Close()
	}
	p.idle = nil
}

// fastPath reports whether req can take the synchronous HTTP/1.1 path.
func fastPath(req *http.Request) bool {
	return !hasBody(req) && idempotent(req.Method) && req.Header["Upgrade"] == nil
}

// roundTripH1 sends req to ep over a pooled connection. A failure on a
// reused connection (the endpoint closed it while idle) is retried once
// on a new connection; the request is idempotent and has no body.
func (u *upstream) roundTripH1(req *http.Request, ep *endpoint) (*http.Response, error) {
	ctx := req.Context()
	for {
		pc := ep.h1.get(time.Now())
		reused := pc != nil
		if pc == nil {
			c, err := u.dial(ctx, "tcp", ep.addr)
			if err != nil {
				return nil, err
			}
			pc = &h1Conn{c: c, br: bufio.NewReader(c), bw: bufio.NewWriter(c)}
		}
		if !pc.dl.at.IsZero() { // left by the wire path: this path uses the context
			pc.dl.set(pc.c.SetDeadline, time.Time{})
		}
		resp, err := exchange(req, pc, ep)
		if err == nil || !reused || ctx.Err() != nil {
			return resp, err
		}
	}
}

// aLongTimeAgo is a deadline that makes blocked reads and writes return.
var aLongTimeAgo = time.Unix(1, 0)

// exchange writes req and reads its response on pc. The response body
// gives pc back to the pool once read to the end.
func exchange(req *http.Request, pc *h1Conn, ep *endpoint) (*http.Response, error) {
	stop := context.AfterFunc(req.Context(), func() { pc.c.SetDeadline(aLongTimeAgo) })
	fail := func(err error) (*http.Response, error) {
		stop()
		pc.c.Close()
		return nil, err
	}
	if err := req.Write(pc.bw); err != nil {
		return fail(err)
	}
	if err := pc.bw.Flush(); err != nil {
		return fail(err)
	}
	for {
		resp, err := http.ReadResponse(pc.br, req)
		if err != nil {
			return fail(err)
		}
		if resp.StatusCode >= 100 && resp.StatusCode < 200 {
			if resp.StatusCode == http.StatusSwitchingProtocols {
				return fail(errors.New("unexpected 101 Switching Protocols"))
			}
			continue // 100 Continue, 103 Early Hints: dropped
		}
		b := &h1Body{rc: resp.Body, pc: pc, ep: ep, stop: stop, keep: !resp.Close}
		if resp.Body == http.NoBody {
			b.release(true)
			return resp, nil
		}
		resp.Body = b
		return resp, nil
	}
}

// h1Body is a response body on a pooled connection.
type h1Body struct {
	rc   io.ReadCloser
	pc   *h1Conn
	ep   *endpoint
	stop func() bool
	keep bool
	done bool
}

func (b *h1Body) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	n, err := b.rc.Read(p)
	if err == io.EOF {
		b.release(true)
	} else if err != nil {
		b.release(false)
	}
	return n, err
}

// Close closes the connection unless the body was read to the end.
func (b *h1Body) Close() error {
	if !b.done {
		b.release(false)
	}
	return b.rc.Close()
}

// release gives the connection back to the pool when the response ended
// cleanly, else closes it.
func (b *h1Body) release(ok bool) {
	b.done = true
	stopped := b.stop()
	if ok && b.keep && stopped && b.pc.br.Buffered() == 0 {
		b.ep.h1.put(b.pc, time.Now())
		return
	}
	b.pc.c.Close()
}
