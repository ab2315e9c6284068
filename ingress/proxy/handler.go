package proxy

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"os"
	"time"
)

// errBodyTooLarge ends a request body past the route's BodyLimit.
var errBodyTooLarge = errors.New("request body too large")

// serve is the proxy's ServeHTTP for a request from listener l.
func (p *Proxy) serve(w http.ResponseWriter, r *http.Request, l *listener) {
	st := &reqState{start: time.Now(), l: l}
	st.rec.ResponseWriter, st.rec.active = w, p.metrics.active
	st.rec.startPacing(r, p.cfg.ClientSendTimeout)
	st.id = requestID(r.Header)
	st.idHeader = []string{st.id}
	w.Header()["X-Request-Id"] = st.idHeader
	defer p.finish(st, r)

	g := p.gen.Load()
	if g == nil {
		reply(&st.rec, http.StatusServiceUnavailable, "no configuration loaded yet")
		return
	}
	st.host = hostOnly(r.Host)
	rt := g.table.Match(st.host, r.URL.Path)
	if rt == nil {
		reply(&st.rec, http.StatusNotFound, "no route for this host and path")
		return
	}
	st.ri = g.info(rt)
	st.pol = st.ri.policy
	if !p.admit(st, r) {
		return
	}
	if st.pol.BodyLimit > 0 && r.ContentLength > st.pol.BodyLimit {
		reply(&st.rec, http.StatusRequestEntityTooLarge, "request body too large")
		return
	}
	if r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
		r.Body = p.wrapBody(w, r, st)
	}
	st.readTimeout = orDefault(st.pol.ReadTimeout, DefaultReadTimeout)
	p.rp.ServeHTTP(&st.rec, r.WithContext(context.WithValue(r.Context(), stateKey{}, st)))
}

// admit applies the route's policy before proxying; false means it
// answered the request itself.
func (p *Proxy) admit(st *reqState, r *http.Request) bool {
	pol := st.pol
	switch {
	case pol.SSLRedirect && !st.l.tls:
		st.rec.Header().Set("Location", redirectLocation(st.host, r))
		st.rec.WriteHeader(http.StatusPermanentRedirect)
		return false
	case !allowed(pol, r.RemoteAddr):
		reply(&st.rec, http.StatusForbidden, "forbidden")
		return false
	case pol.LimitRPS > 0 && !p.limiter.allow(st.ri.ingress, clientAddr(r.RemoteAddr), pol.LimitRPS, st.start):
		reply(&st.rec, http.StatusTooManyRequests, "too many requests")
		return false
	}
	if c := pol.CORS; c != nil {
		if isPreflight(r) {
			preflight(&st.rec, r, c)
			return false
		}
		st.origin = corsOrigin(c, r.Header.Get("Origin"))
	}
	if st.ri.backend == nil {
		reply(&st.rec, http.StatusServiceUnavailable, "no endpoints available for this route")
		return false
	}
	return true
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// reply answers with a short plain-text body.
func reply(w http.ResponseWriter, code int, msg string) {
	h := w.Header()
	h["Content-Type"] = []string{"text/plain; charset=utf-8"}
	h["X-Content-Type-Options"] = []string{"nosniff"}
	w.WriteHeader(code)
	io.WriteString(w, msg+"\n")
}

// rewrite prepares the upstream request (httputil.ReverseProxy.Rewrite).
// The endpoint is set per attempt by the upstream transport.
func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	st := stateOf(pr.Out.Context())
	out := pr.Out
	out.URL.Scheme = "http"
	if proto := st.pol.Protocol; proto == "HTTPS" || proto == "GRPCS" {
		out.URL.Scheme = "https"
	}
	if st.pol.RewriteTarget != "" {
		out.URL.Path = st.ri.route.Rewrite(pr.In.URL.Path)
		if out.URL.Path == "" {
			out.URL.Path = "/"
		}
		out.URL.RawPath = ""
	}
	setForwarded(out.Header, pr.In, st.l, st.idHeader)
}

// modifyResponse adds what the proxy adds to upstream responses.
func (p *Proxy) modifyResponse(resp *http.Response) error {
	st := stateOf(resp.Request.Context())
	st.rec.Header().Del("X-Request-Id")
	resp.Header["X-Request-Id"] = st.idHeader
	if st.setCookie && st.ep != nil {
		resp.Header.Add("Set-Cookie", affinityCookie(st.pol.Affinity, st.ep))
	}
	if st.origin != "" {
		setCORS(resp.Header, st.pol.CORS, st.origin)
	}
	return nil
}

// statusClientClosed is nginx's code for a client gone before the
// response, recorded but never sent.
const statusClientClosed = 499

// errorHandler answers upstream failures: 413 for a body past the limit,
// 408 for a client too slow sending its body, 504 for upstream timeouts,
// 502 otherwise.
func (p *Proxy) errorHandler(w http.ResponseWriter, r *http.Request, err error) {
	st := stateOf(r.Context())
	var mbe *http.MaxBytesError
	var de *dialError
	code := http.StatusBadGateway
	switch {
	case st.bodyTooLarge.Load() || errors.As(err, &mbe):
		code = http.StatusRequestEntityTooLarge
	case st.clientTimeout.Load():
		code = http.StatusRequestTimeout
	case errors.Is(err, errUpstreamTimeout):
		code = http.StatusGatewayTimeout
	case r.Context().Err() != nil:
		st.rec.status = statusClientClosed
		return
	case errors.As(err, &de) && de.timeout():
		code = http.StatusGatewayTimeout
	}
	p.log.LogAttrs(r.Context(), slog.LevelWarn, "upstream request failed",
		slog.String("request_id", st.id), slog.String("service", st.ri.service),
		slog.Int("status", code), slog.Any("error", err))
	reply(w, code, http.StatusText(code))
}

// finish records the request's metrics and access log line.
func (p *Proxy) finish(st *reqState, r *http.Request) {
	if st.cancel != nil {
		st.cancel(nil)
	}
	upstream := ""
	if st.ntried > 0 {
		upstream = st.tried[st.ntried-1].addr
	}
	st.release()
	status := st.rec.status
	if status == 0 {
		status = http.StatusOK
	}
	d := time.Since(st.start)
	p.count(st.ri, status, d)
	if p.cfg.AccessLog {
		p.logRequest(accessEntry{ri: st.ri, remote: r.RemoteAddr, method: r.Method, host: r.Host, path: r.URL.Path,
			status: status, bytes: st.rec.bytes, duration: d, upstream: upstream, id: st.id})
	}
}

// count records a finished request in the metrics (ri nil: no route).
func (p *Proxy) count(ri *routeInfo, status int, d time.Duration) {
	switch {
	case ri == nil:
		p.metrics.noRoute.Observe(d.Seconds())
		p.metrics.requests.WithLabelValues("", "", p.metrics.status(status)).Inc()
	case status == http.StatusOK:
		ri.duration.Observe(d.Seconds())
		ri.ok.Inc()
	default:
		ri.duration.Observe(d.Seconds())
		p.metrics.requests.WithLabelValues(ri.ingress, ri.service, p.metrics.status(status)).Inc()
	}
}

// accessEntry is one access log line.
type accessEntry struct {
	ri                                       *routeInfo // nil: no route
	remote, method, host, path, upstream, id string
	status                                   int
	bytes                                    int64
	duration                                 time.Duration
}

// logRequest writes the access log line of a request.
func (p *Proxy) logRequest(e accessEntry) {
	ingress, service := "", ""
	if e.ri != nil {
		ingress, service = e.ri.ingress, e.ri.service
	}
	p.log.LogAttrs(context.Background(), slog.LevelInfo, "request",
		slog.String("remote", e.remote), slog.String("method", e.method),
		slog.String("host", e.host), slog.String("path", e.path),
		slog.Int("status", e.status), slog.Int64("bytes", e.bytes),
		slog.Duration("duration", e.duration), slog.String("upstream", e.upstream),
		slog.String("request_id", e.id), slog.String("ingress", ingress),
		slog.String("service", service))
}

// wrapBody bounds the request body by the route's limit and the client
// body timeout.
func (p *Proxy) wrapBody(w http.ResponseWriter, r *http.Request, st *reqState) io.ReadCloser {
	return &bodyReader{
		body:    r.Body,
		st:      st,
		rc:      http.NewResponseController(w),
		timeout: p.cfg.ClientBodyTimeout,
		limit:   st.pol.BodyLimit,
		expect:  r.ContentLength,
	}
}

// bodyReader is a request body read by the upstream transport: it
// enforces the body limit (also for chunked bodies), gives the client
// ClientBodyTimeout between reads, and tells the request state when the
// body has been sent.
type bodyReader struct {
	body    io.ReadCloser
	st      *reqState
	rc      *http.ResponseController
	timeout time.Duration
	limit   int64 // 0: none
	expect  int64 // Content-Length, -1 unknown
	n       int64
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.limit > 0 {
		if b.n > b.limit {
			return 0, errBodyTooLarge
		}
		if rem := b.limit - b.n + 1; int64(len(p)) > rem {
			p = p[:rem]
		}
	}
	if b.timeout > 0 {
		_ = b.rc.SetReadDeadline(time.Now().Add(b.timeout))
	}
	n, err := b.body.Read(p)
	b.n += int64(n)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		b.st.clientTimeout.Store(true)
	}
	if b.limit > 0 && b.n > b.limit {
		b.st.bodyTooLarge.Store(true)
		return n - int(b.n-b.limit), errBodyTooLarge
	}
	if err == io.EOF {
		if b.timeout > 0 {
			_ = b.rc.SetReadDeadline(time.Time{})
		}
		b.st.bodySent()
	} else if b.expect >= 0 && b.n >= b.expect {
		b.st.bodySent()
	}
	return n, err
}

func (b *bodyReader) Close() error { return b.body.Close() }
