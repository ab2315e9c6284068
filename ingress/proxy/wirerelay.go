package proxy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"rudder/ingress/route"
)

// wireRoute tells whether requests of a route can take the wire path on
// listener l: an HTTP backend with endpoints, and no policy that needs
// the request as net/http parses it (redirects, which only plain HTTP
// gets, CORS, affinity cookies, rate limits, allow lists), which the
// handler implements once.
func wireRoute(ri *routeInfo, l *listener) bool {
	pol := ri.policy
	return ri.backend != nil && ri.route.Backend.ExternalName == "" &&
		(pol.Protocol == "" || pol.Protocol == route.HTTP) &&
		(!pol.SSLRedirect || l.tls) && pol.CORS == nil && pol.Affinity == nil && pol.LimitRPS == 0 &&
		!pol.DenyAll && pol.Allow == nil
}

// errWireRetry marks a failure on a reused upstream connection before any
// of the response arrived: the endpoint closed it while idle.
var errWireRetry = errors.New("reused upstream connection closed")

// relayResult is what the connection does after a request.
type relayResult int

const (
	relayKeep    relayResult = iota // serve the next request
	relayClose                      // close the connection
	relayHandoff                    // not for the wire path: hand the connection to net/http
)

// relay serves the parsed request on the wire path, or reports that the
// route needs net/http (nothing of the request is consumed then).
func (wc *wireConn) relay() relayResult {
	p := wc.s.p
	start := time.Now()
	h := &wc.req
	g := p.gen.Load()
	if g == nil {
		return relayHandoff
	}
	rt := g.table.Match(hostOnly(string(h.host)), string(h.path))
	if rt == nil {
		return relayHandoff
	}
	ri := g.info(rt)
	if !wireRoute(ri, wc.s.l) {
		return relayHandoff
	}
	p.metrics.wire.Inc()
	id := string(h.requestID)
	if !validRequestID(id) {
		id = newRequestID()
	}
	wc.headSent = false
	status, sent, ep, err := wc.exchange(ri, id, start)
	if h.size > 0 { // the head is still unconsumed when exchange failed early
		wc.br.Discard(h.size)
		h.size = 0
	}
	res := relayKeep
	switch {
	case err == nil:
	case wc.headSent || status == 0:
		res = relayClose // mid-response, or the client is gone
	case wc.replyError(status, id) != nil:
		res = relayClose
	}
	wc.record(ri, status, sent, ep, id, start, err)
	return res
}

// exchange sends the request to an endpoint and copies the response.
// status is the response status sent, or to send when err != nil (0:
// close the connection without a response).
func (wc *wireConn) exchange(ri *routeInfo, id string, now time.Time) (status int, sent int64, ep *endpoint, err error) {
	p := wc.s.p
	pol := ri.policy
	var tried [maxAttempts]*endpoint
	ntried := 0
	for {
		if ntried > 0 {
			now = time.Now()
		}
		ep = ri.backend.pick(pol.Balance, tried[:ntried], now.UnixNano())
		if ep == nil {
			return 502, 0, nil, errNoEndpoint
		}
		tried[ntried] = ep
		ntried++
		ep.outstanding.Add(1)
		ep.lastUsed.Store(now.UnixNano())
		status, sent, err = wc.attempt(ri, ep, id, now)
		ep.outstanding.Add(-1)
		var de *dialError
		if err == nil || !errors.As(err, &de) {
			return status, sent, ep, err
		}
		p.upstream.failed(ep, time.Now())
		if ntried >= maxAttempts || ntried >= len(ri.backend.eps) {
			if de.timeout() {
				return 504, 0, ep, err
			}
			return 502, 0, ep, err
		}
		p.metrics.retries.Inc()
	}
}

// attempt is one try on ep: a pooled connection (a fresh one when the
// pooled one turns out closed), the request, the response.
func (wc *wireConn) attempt(ri *routeInfo, ep *endpoint, id string, now time.Time) (int, int64, error) {
	p := wc.s.p
	for {
		pc := ep.h1.get(now)
		reused := pc != nil
		if pc == nil {
			ctx, cancel := context.WithTimeout(context.Background(), orDefault(ri.policy.ConnectTimeout, DefaultConnectTimeout))
			c, err := p.upstream.dial(ctx, "tcp", ep.addr)
			cancel()
			if err != nil {
				return 0, 0, err
			}
			var rw io.ReadWriter = c
			if raw := newRawIO(c); raw != nil {
				rw = raw
			}
			pc = &h1Conn{c: c, br: bufio.NewReaderSize(rw, wireBufSize), bw: bufio.NewWriterSize(rw, wireBufSize)}
		}
		if !reused {
			now = time.Now() // after the dial
		}
		status, sent, err := wc.roundTrip(ri, ep, pc, id, reused, now)
		if errors.Is(err, errWireRetry) {
			continue
		}
		return status, sent, err
	}
}

// roundTrip writes the request on pc, reads the response head and copies
// the response to the client.
func (wc *wireConn) roundTrip(ri *routeInfo, ep *endpoint, pc *h1Conn, id string, reused bool, sentAt time.Time) (int, int64, error) {
	p := wc.s.p
	// One deadline, the read timeout, for both directions: sending a
	// bodiless head (at most one buffer, into a connection whose last
	// exchange completed) does not block, so SendTimeout has nothing to
	// bound here; one timer update per request, not two.
	readTimeout := orDefault(ri.policy.ReadTimeout, DefaultReadTimeout)
	pc.dl.extend(pc.c.SetDeadline, sentAt, readTimeout)
	wc.writeRequest(pc.bw, ri, id)
	if err := pc.bw.Flush(); err != nil {
		pc.c.Close()
		if reused {
			return 0, 0, errWireRetry
		}
		return 502, 0, err
	}
	// Let the other connections run before reading: by then the answer
	// has often arrived, and the read does not come back empty (EAGAIN,
	// a wasted system call and a trip through the poller).
	runtime.Gosched()
	head, err := readResponseHead(pc.br, &wc.resp)
	if err != nil {
		pc.c.Close()
		var ne net.Error
		switch {
		case reused && pc.br.Buffered() == 0 && (errors.Is(err, io.EOF) || isConnReset(err)):
			return 0, 0, errWireRetry
		case errors.As(err, &ne) && ne.Timeout():
			return 504, 0, err
		}
		return 502, 0, err
	}
	headAt := time.Now()
	ri.upstream.Observe(headAt.Sub(sentAt).Seconds())
	switch wc.resp.status {
	case 502, 503, 504:
		wc.s.p.upstream.failed(ep, headAt)
	default:
		ep.succeeded()
	}
	wc.br.Discard(wc.req.size) // the request is written: its head can go
	wc.req.size = 0
	wc.wdl.extend(wc.c.SetWriteDeadline, headAt, p.cfg.ClientSendTimeout)
	wc.writeResponseHead(id, headAt)
	pc.br.Discard(len(head))
	sent, err := wc.copyBody(pc, readTimeout)
	if err != nil {
		pc.c.Close()
		return wc.resp.status, sent, err // the head is out: close the client too
	}
	// The body is read whole: the upstream connection is free before
	// the client has the end of the response.
	if wc.resp.closeConn || pc.br.Buffered() > 0 {
		pc.c.Close()
	} else {
		ep.h1.put(pc, headAt) // with its deadline: the next use moves it
	}
	if err := wc.bw.Flush(); err != nil {
		return wc.resp.status, sent, err
	}
	return wc.resp.status, sent, nil
}

// readResponseHead reads up to the end of the response head (skipping
// 1xx interim responses) without consuming it; it returns the head.
func readResponseHead(br *bufio.Reader, h *respHead) ([]byte, error) {
	for {
		buf, _ := br.Peek(br.Buffered())
		if i := bytes.Index(buf, crlf2); i >= 0 {
			head := buf[:i+4]
			if err := parseResponse(head, h); err != nil {
				return nil, err
			}
			if h.status >= 100 && h.status < 200 {
				if h.status == 101 {
					return nil, errors.New("unexpected 101 Switching Protocols")
				}
				br.Discard(len(head))
				continue
			}
			return head, nil
		}
		if br.Buffered() == br.Size() {
			return nil, errors.New("upstream response head too large")
		}
		if _, err := br.Peek(br.Buffered() + 1); err != nil {
			return nil, err
		}
	}
}

// writeRequest writes the upstream request head: the client's fields
// minus the hop-by-hop ones, plus the X-Forwarded-* set.
func (wc *wireConn) writeRequest(bw *bufio.Writer, ri *routeInfo, id string) {
	h := &wc.req
	bw.Write(h.method)
	bw.WriteByte(' ')
	if ri.policy.RewriteTarget != "" {
		path := ri.route.Rewrite(string(h.path))
		if path == "" {
			path = "/"
		}
		bw.WriteString(path)
		bw.Write(h.query)
	} else {
		bw.Write(h.target)
	}
	bw.WriteString(" HTTP/1.1\r\n")
	for _, f := range h.fields {
		if !f.drop {
			writeField(bw, f.name, f.value)
		}
	}
	ip := clientHost(wc.remote)
	bw.WriteString("X-Forwarded-For: ")
	if len(h.xff) > 0 {
		bw.Write(h.xff)
		bw.WriteString(", ")
	}
	bw.WriteString(ip)
	bw.WriteString("\r\nX-Forwarded-Proto: ")
	bw.WriteString(wc.s.l.proto)
	bw.WriteString("\r\nX-Forwarded-Host: ")
	bw.Write(h.host)
	if l := wc.s.l; l.portHeader != nil {
		bw.WriteString("\r\nX-Forwarded-Port: ")
		bw.WriteString(l.portHeader[0])
	}
	bw.WriteString("\r\nX-Real-Ip: ")
	bw.WriteString(ip)
	bw.WriteString("\r\nX-Request-Id: ")
	bw.WriteString(id)
	if h.teTrailers {
		bw.WriteString("\r\nTe: trailers")
	}
	bw.WriteString("\r\n\r\n")
}

func writeField(bw *bufio.Writer, name, value []byte) {
	bw.Write(name)
	bw.WriteString(": ")
	bw.Write(value)
	bw.WriteString("\r\n")
}

// writeResponseHead writes the client's response head from the
// upstream's, minus hop-by-hop fields, plus X-Request-Id, and a Date of
// now when the upstream sent none.
func (wc *wireConn) writeResponseHead(id string, now time.Time) {
	bw, r := wc.bw, &wc.resp
	wc.headSent = true
	bw.WriteString("HTTP/1.1 ")
	bw.Write(r.statusLine)
	bw.WriteString("\r\n")
	for _, f := range r.fields {
		if !f.drop {
			writeField(bw, f.name, f.value)
		}
	}
	if !r.hasDate { // RFC 9110 6.6.1: a forwarding recipient adds it
		bw.WriteString("Date: ")
		bw.WriteString(wc.s.p.dates.format(now))
		bw.WriteString("\r\n")
	}
	bw.WriteString("X-Request-Id: ")
	bw.WriteString(id)
	// Without a length the body ends when the upstream closes: so must
	// the client's connection.
	if !bodyless(wc.req.method, r.status) && !r.chunked && r.contentLength < 0 {
		wc.req.closeConn = true
	}
	if wc.req.closeConn {
		bw.WriteString("\r\nConnection: close")
	}
	bw.WriteString("\r\n\r\n")
}

// copyBody copies the response body by its framing.
func (wc *wireConn) copyBody(pc *h1Conn, readTimeout time.Duration) (int64, error) {
	r := &wc.resp
	b := bodyRelay{w: wc.bw, r: pc.br, up: pc, readTimeout: readTimeout,
		client: wc.c, cdl: &wc.wdl, sendTimeout: wc.s.p.cfg.ClientSendTimeout}
	switch {
	case bodyless(wc.req.method, r.status):
		return 0, nil
	case r.chunked:
		return b.chunked()
	case r.contentLength >= 0:
		return b.copyN(r.contentLength)
	}
	r.closeConn = true
	return b.copyN(-1)
}

// replyError answers the client with a short error.
func (wc *wireConn) replyError(status int, id string) error {
	text := http.StatusText(status)
	now := time.Now()
	wc.wdl.extend(wc.c.SetWriteDeadline, now, wc.s.p.cfg.ClientSendTimeout)
	bw := wc.bw
	bw.WriteString("HTTP/1.1 ")
	bw.WriteString(strconv.Itoa(status))
	bw.WriteString(" ")
	bw.WriteString(text)
	bw.WriteString("\r\nDate: ")
	bw.WriteString(wc.s.p.dates.format(now))
	bw.WriteString("\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\nX-Request-Id: ")
	bw.WriteString(id)
	bw.WriteString("\r\nContent-Length: ")
	bw.WriteString(strconv.Itoa(len(text) + 1))
	if wc.req.closeConn {
		bw.WriteString("\r\nConnection: close")
	}
	bw.WriteString("\r\n\r\n")
	bw.WriteString(text)
	bw.WriteString("\n")
	return bw.Flush()
}

// record counts the request and writes its access log line.
func (wc *wireConn) record(ri *routeInfo, status int, sent int64, ep *endpoint, id string, start time.Time, err error) {
	p := wc.s.p
	if status == 0 {
		status = statusClientClosed
	}
	if err != nil {
		p.log.LogAttrs(context.Background(), slog.LevelWarn, "upstream request failed",
			slog.String("request_id", id), slog.String("service", ri.service),
			slog.Int("status", status), slog.Any("error", err))
	}
	wc.now = time.Now()
	d := wc.now.Sub(start)
	p.count(ri, status, d)
	if !p.cfg.AccessLog {
		return
	}
	upstream := ""
	if ep != nil {
		upstream = ep.addr
	}
	h := &wc.req
	p.logRequest(accessEntry{ri: ri, remote: wc.remote, method: string(h.method), host: string(h.host),
		path: string(h.path), status: status, bytes: sent, duration: d, upstream: upstream, id: id})
}

func isConnReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
