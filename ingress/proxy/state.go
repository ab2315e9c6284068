package proxy

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"rudder/ingress/route"
)

// maxAttempts bounds the endpoints one request tries.
const maxAttempts = 3

type stateKey struct{}

// reqState is what the proxy tracks of one request, from ServeHTTP to
// the end of the response. The upstream side finds it in the context.
type reqState struct {
	start time.Time
	l     *listener
	rec   recorder
	id    string
	// idHeader is {id}, shared read-only by the upstream request and
	// the response headers.
	idHeader []string
	host     string
	ri       *routeInfo
	pol      *route.Policy
	// origin is the CORS Allow-Origin to add to the response, if any.
	origin string

	// ep is the endpoint serving the request (counted as outstanding).
	ep        *endpoint
	tried     [maxAttempts]*endpoint
	ntried    int
	setCookie bool

	bodyTooLarge  atomic.Bool
	clientTimeout atomic.Bool
	cancel        context.CancelCauseFunc

	// The upstream timer: SendTimeout while the body is sent, then
	// ReadTimeout until the response headers and for each read of the
	// response body.
	tmu         sync.Mutex
	timer       *time.Timer
	phase       int // phaseSending, phaseReading, phaseDone
	readTimeout time.Duration
}

const (
	phaseSending = iota
	phaseReading
	phaseDone
)

func stateOf(ctx context.Context) *reqState {
	st, _ := ctx.Value(stateKey{}).(*reqState)
	return st
}

// bodySent switches the upstream timer from sending to reading.
func (st *reqState) bodySent() {
	st.tmu.Lock()
	defer st.tmu.Unlock()
	if st.phase == phaseSending && st.timer != nil {
		st.phase = phaseReading
		st.timer.Reset(st.readTimeout)
	}
}

// headersReceived stops the upstream timer; false means it fired first.
func (st *reqState) headersReceived() bool {
	st.tmu.Lock()
	defer st.tmu.Unlock()
	st.phase = phaseDone
	return st.timer == nil || st.timer.Stop()
}

// pacedBody is an upstream response body whose every read must return
// within the read timeout: it bounds a pause in the response, as nginx's
// proxy_read_timeout does, not its length. When the timer fires, the
// request's context ends and so does the read.
type pacedBody struct {
	io.ReadCloser
	st *reqState
}

func (b *pacedBody) Read(p []byte) (int, error) {
	st := b.st
	st.tmu.Lock()
	if st.timer != nil {
		st.timer.Reset(st.readTimeout)
	}
	st.tmu.Unlock()
	n, err := b.ReadCloser.Read(p)
	st.tmu.Lock()
	if st.timer != nil {
		st.timer.Stop()
	}
	st.tmu.Unlock()
	return n, err
}

// choose picks the endpoint for the next attempt: the affinity cookie's
// on the first attempt when it is healthy, else by the balancer among
// the endpoints not tried yet. It counts the endpoint as outstanding.
func (st *reqState) choose(req *http.Request, now time.Time) *endpoint {
	b := st.ri.backend
	n := now.UnixNano()
	var e *endpoint
	if a := st.pol.Affinity; a != nil {
		if st.ntried == 0 {
			if c, err := req.Cookie(a.CookieName); err == nil {
				e = b.sticky(c.Value, n)
			}
		}
		st.setCookie = e == nil
	}
	if e == nil {
		e = b.pick(st.pol.Balance, st.tried[:st.ntried], n)
	}
	if e == nil {
		return nil
	}
	st.tried[st.ntried] = e
	st.ntried++
	st.ep = e
	e.outstanding.Add(1)
	e.lastUsed.Store(n)
	return e
}

// release stops counting the current endpoint as outstanding.
func (st *reqState) release() {
	if st.ep != nil {
		st.ep.outstanding.Add(-1)
		st.ep = nil
	}
}

// recorder records the status and size of a response, and paces the
// client connection's writes.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	// conn sets the connection's write deadline (nil: not paced); wdl
	// is the deadline set, sendTimeout the pause allowed.
	conn        deadliner
	wdl         deadline
	sendTimeout time.Duration
	// active counts client connections, hijacked ones included.
	active prometheus.Gauge
}

// deadliner is what http.ResponseController uses to set a write
// deadline, on HTTP/1 and HTTP/2 responses alike.
type deadliner interface{ SetWriteDeadline(time.Time) error }

// startPacing bounds the pauses in writing the response to d, as nginx's
// send_timeout does: a client that stops reading loses its connection
// (and frees the upstream one) instead of holding both. The deadline is
// set at once, for what net/http writes on its own (100 Continue), and
// moved before each write; net/http clears it after the response. A
// request to upgrade the connection is not paced: once hijacked, the
// tunnel is not written through here.
func (r *recorder) startPacing(req *http.Request, d time.Duration) {
	dl, ok := r.ResponseWriter.(deadliner)
	if !ok || req.Header["Upgrade"] != nil {
		return
	}
	r.conn, r.sendTimeout = dl, d
	r.pace()
}

// pace moves the write deadline to sendTimeout from now, give or take
// a 64th of it (see deadline).
func (r *recorder) pace() {
	if r.conn != nil {
		r.wdl.extend(r.conn.SetWriteDeadline, time.Now(), r.sendTimeout)
	}
}

// WriteHeader records the final status (101 included, other 1xx not).
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		r.status = code
		noSniff(r.Header())
	}
	r.pace()
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
		noSniff(r.Header())
	}
	r.pace()
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Flush flushes the underlying writer.
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		r.pace()
		f.Flush()
	}
}

// Hijack hands the connection to ReverseProxy's upgrade tunnel. net/http
// stops counting it then (StateHijacked); it stays an active connection
// until the tunnel closes it.
func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(r.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if r.active == nil {
		return c, brw, nil
	}
	r.active.Inc()
	return &countedConn{Conn: c, active: r.active}, brw, nil
}

// countedConn is a hijacked connection counted in active until closed.
type countedConn struct {
	net.Conn
	active prometheus.Gauge
	once   sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(c.active.Dec)
	return c.Conn.Close()
}

// Unwrap lets http.ResponseController reach the connection (hijacking
// for upgrades, deadlines).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// noSniff keeps net/http from adding a Content-Type the upstream did not
// send (it guesses one from the first bytes of the body otherwise, which
// can turn an untyped response into text/html): a proxy passes the
// response on as it came, as nginx and the wire path do.
func noSniff(h http.Header) {
	if _, ok := h["Content-Type"]; !ok {
		h["Content-Type"] = nil
	}
}
