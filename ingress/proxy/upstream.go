package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"time"

	"rudder/ingress/route"
)

// errUpstreamTimeout is the cause of a request cancelled by the send or
// read timeout (504).
var errUpstreamTimeout = errors.New("upstream timed out")

// errNoEndpoint should not happen: routes without endpoints get 503
// before proxying.
var errNoEndpoint = errors.New("no endpoint to send the request to")

// dialError is a failure to connect to an endpoint (TCP or TLS): the
// request was not sent, so it may be retried elsewhere.
type dialError struct {
	addr string
	err  error
}

func (e *dialError) Error() string { return "connect to " + e.addr + ": " + e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

func (e *dialError) timeout() bool {
	var ne net.Error
	return errors.Is(e.err, context.DeadlineExceeded) || (errors.As(e.err, &ne) && ne.Timeout())
}

// upstream is the proxy's http.RoundTripper: it picks endpoints, retries
// connect failures, applies the timeouts and feeds outlier ejection. It
// keeps one keep-alive pool per endpoint and protocol.
type upstream struct {
	p      *Proxy
	dialer *net.Dialer
	plain  *http.Transport // HTTP/1.1
	tls    *http.Transport // HTTP/1.1 over TLS
	h2c    *http.Transport // HTTP/2 cleartext (GRPC)
	h2     *http.Transport // HTTP/2 over TLS (GRPCS)
}

func newUpstream(p *Proxy, res *net.Resolver) *upstream {
	u := &upstream{p: p, dialer: &net.Dialer{Resolver: res, KeepAlive: 30 * time.Second}}
	u.plain = baseTransport(http1Only())
	u.plain.DialContext = u.dial
	u.tls = baseTransport(http1Only())
	u.tls.DialTLSContext = u.dialTLS("http/1.1")
	h2c := new(http.Protocols)
	h2c.SetUnencryptedHTTP2(true)
	u.h2c = baseTransport(h2c)
	u.h2c.DialContext = u.dial
	h2 := new(http.Protocols)
	h2.SetHTTP2(true)
	u.h2 = baseTransport(h2)
	u.h2.ForceAttemptHTTP2 = true
	u.h2.DialTLSContext = u.dialTLS("h2")
	return u
}

func http1Only() *http.Protocols {
	p := new(http.Protocols)
	p.SetHTTP1(true)
	return p
}

func baseTransport(protos *http.Protocols) *http.Transport {
	return &http.Transport{
		Protocols:              protos,
		MaxIdleConnsPerHost:    256,
		IdleConnTimeout:        90 * time.Second,
		ExpectContinueTimeout:  time.Second,
		DisableCompression:     true,
		MaxResponseHeaderBytes: 1 << 20,
		TLSClientConfig:        &tls.Config{InsecureSkipVerify: true},
	}
}

func (u *upstream) transport(p route.Protocol) *http.Transport {
	switch p {
	case route.HTTPS:
		return u.tls
	case route.GRPC:
		return u.h2c
	case route.GRPCS:
		return u.h2
	default:
		return u.plain
	}
}

// dial connects to an endpoint within the route's ConnectTimeout;
// ExternalName addresses resolve through the configured resolver.
func (u *upstream) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	timeout := DefaultConnectTimeout
	if st := stateOf(ctx); st != nil {
		timeout = orDefault(st.pol.ConnectTimeout, DefaultConnectTimeout)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := u.dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, &dialError{addr: addr, err: err}
	}
	return c, nil
}

// dialTLS connects with TLS, offering proto by ALPN, with the request's
// host as SNI and no certificate verification (like nginx's default
// proxy_ssl_verify off). The handshake counts as part of connecting.
func (u *upstream) dialTLS(proto string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		timeout := DefaultConnectTimeout
		sni := ""
		if st := stateOf(ctx); st != nil {
			timeout = orDefault(st.pol.ConnectTimeout, DefaultConnectTimeout)
			sni = st.host
		}
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		c, err := u.dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, &dialError{addr: addr, err: err}
		}
		tc := tls.Client(c, &tls.Config{
			ServerName:         sni,
			InsecureSkipVerify: true, //nolint:gosec // nginx's proxy_ssl_verify off
			NextProtos:         []string{proto},
		})
		if err := tc.HandshakeContext(ctx); err != nil {
			c.Close()
			return nil, &dialError{addr: addr, err: err}
		}
		return tc, nil
	}
}

// idempotent methods may be retried on another endpoint.
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodTrace:
		return true
	}
	return false
}

func hasBody(req *http.Request) bool {
	return req.Body != nil && req.Body != http.NoBody
}

// RoundTrip sends the request to an endpoint of the route's backend,
// retrying connect failures of replayable idempotent requests on other
// endpoints, up to maxAttempts.
func (u *upstream) RoundTrip(req *http.Request) (*http.Response, error) {
	st := stateOf(req.Context())
	if st == nil || st.ri == nil || st.ri.backend == nil {
		return nil, errNoEndpoint
	}
	tr := u.transport(st.pol.Protocol)
	ctx, cancel := context.WithCancelCause(req.Context())
	st.cancel = cancel
	req = req.WithContext(ctx)
	u.startTimer(st, req, cancel)
	retry := idempotent(req.Method) && (!hasBody(req) || req.GetBody != nil)
	fast := (st.pol.Protocol == route.HTTP || st.pol.Protocol == "") && fastPath(req)
	start := time.Now()
	for attempt := 1; ; attempt++ {
		ep := st.choose(req, start)
		if ep == nil {
			return nil, errNoEndpoint
		}
		req.URL.Host = ep.addr
		var resp *http.Response
		var err error
		if fast {
			resp, err = u.roundTripH1(req, ep)
		} else {
			resp, err = tr.RoundTrip(req)
		}
		if err == nil {
			return u.received(st, ep, resp, start)
		}
		if errors.Is(context.Cause(ctx), errUpstreamTimeout) {
			return nil, errUpstreamTimeout
		}
		var de *dialError
		if !errors.As(err, &de) {
			return nil, err
		}
		u.failed(ep, time.Now())
		st.release()
		if !retry || attempt >= maxAttempts || ctx.Err() != nil || st.ntried >= len(st.ri.backend.eps) {
			return nil, err
		}
		if hasBody(req) {
			body, gerr := req.GetBody()
			if gerr != nil {
				return nil, err
			}
			req.Body = body
		}
		u.p.metrics.retries.Inc()
	}
}

// startTimer arms the upstream timer: SendTimeout while a body is sent,
// then ReadTimeout until the response headers.
func (u *upstream) startTimer(st *reqState, req *http.Request, cancel context.CancelCauseFunc) {
	d := st.readTimeout
	st.tmu.Lock()
	defer st.tmu.Unlock()
	if hasBody(req) {
		d = orDefault(st.pol.SendTimeout, DefaultSendTimeout)
		st.phase = phaseSending
	} else {
		st.phase = phaseReading
	}
	st.timer = time.AfterFunc(d, func() { cancel(errUpstreamTimeout) })
}

// received handles response headers from ep: stops the timer (a body's
// reads re-arm it, see pacedBody), records
// the upstream latency and feeds outlier detection (502, 503 and 504
// from the upstream count as failures, like Envoy's gateway errors).
func (u *upstream) received(st *reqState, ep *endpoint, resp *http.Response, start time.Time) (*http.Response, error) {
	if !st.headersReceived() {
		resp.Body.Close()
		return nil, errUpstreamTimeout
	}
	now := time.Now()
	st.ri.upstream.Observe(now.Sub(start).Seconds())
	if resp.StatusCode != http.StatusSwitchingProtocols && resp.Body != http.NoBody {
		resp.Body = &pacedBody{ReadCloser: resp.Body, st: st}
	}
	switch resp.StatusCode {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		u.failed(ep, now)
	default:
		ep.succeeded()
	}
	return resp, nil
}

func (u *upstream) failed(ep *endpoint, now time.Time) {
	if ep.failed(now) {
		u.p.metrics.ejections.Inc()
		u.p.log.Warn("endpoint ejected", "endpoint", ep.addr, "until", time.Unix(0, ep.ejectedUntil.Load()))
	}
}
