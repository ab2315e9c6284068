package server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"

	gwebsocket "github.com/gorilla/websocket"
	clientportforward "k8s.io/client-go/tools/portforward"
	"k8s.io/cri-streaming/pkg/streaming/portforward"
	"k8s.io/streaming/pkg/httpstream"
	"k8s.io/streaming/pkg/httpstream/spdy"
	"k8s.io/streaming/pkg/httpstream/wsstream"
)

// tunnelPrefix marks a WebSocket subprotocol that carries SPDY (kubectl
// 1.30+: "SPDY/3.1+portforward.k8s.io").
const tunnelPrefix = "SPDY/3.1+"

// servePortForward serves /portForward/{namespace}/{pod} in three forms:
// SPDY, SPDY tunnelled through a WebSocket, and the WebSocket protocol
// with ?port= (v4.channel.k8s.io).
func (s *Server) servePortForward(w http.ResponseWriter, r *http.Request) {
	ns, pod := r.PathValue("namespace"), r.PathValue("pod")
	fwd := forwarder{p: s.cfg.Provider, namespace: ns}
	var opts *portforward.V4Options
	tunnel := wsstream.IsWebSocketRequestWithTunnelingProtocol(r)
	if wsstream.IsWebSocketRequest(r) && !tunnel {
		var err error
		if opts, err = portforward.NewV4Options(r); err != nil {
			http.Error(w, "bad port-forward options: "+err.Error(), http.StatusBadRequest)
			return
		}
	}
	if err := s.cfg.Provider.Lookup(ns, pod, ""); err != nil {
		s.writeProviderError(w, r, "port-forward", err)
		return
	}
	if tunnel {
		w, r = newTunnelWriter(w, r), spdyRequest(r)
	}
	portforward.ServePortForward(w, r, fwd, pod, "", opts,
		s.cfg.StreamIdleTimeout, s.cfg.StreamCreationTimeout, portforward.SupportedProtocols)
}

// forwarder adapts the Provider to cri-streaming's PortForwarder.
type forwarder struct {
	p         Provider
	namespace string
}

// PortForward implements portforward.PortForwarder.
func (f forwarder) PortForward(ctx context.Context, pod, _ string, port int32, stream io.ReadWriteCloser) error {
	return f.p.PortForward(ctx, f.namespace, pod, port, stream)
}

// spdyRequest rewrites a tunnelling WebSocket request into the SPDY
// upgrade request it carries, for the SPDY port-forward handler.
func spdyRequest(r *http.Request) *http.Request {
	c := r.Clone(r.Context())
	c.Header.Del(wsstream.WebSocketProtocolHeader)
	c.Header.Del("Sec-Websocket-Key")
	c.Header.Del("Sec-Websocket-Version")
	c.Header.Del("Sec-Websocket-Extensions")
	c.Header.Del(httpstream.HeaderProtocolVersion)
	c.Header.Set(httpstream.HeaderConnection, httpstream.HeaderUpgrade)
	c.Header.Set(httpstream.HeaderUpgrade, spdy.HeaderSpdy31)
	for _, p := range gwebsocket.Subprotocols(r) {
		if after, ok := strings.CutPrefix(p, tunnelPrefix); ok {
			c.Header.Add(httpstream.HeaderProtocolVersion, after)
		}
	}
	return c
}

// tunnelWriter is the ResponseWriter the SPDY handler sees for a tunnelled
// request. Its Hijack upgrades the real connection to a WebSocket and
// returns that WebSocket as a byte stream, so the SPDY server runs inside
// it; the SPDY "101" response is not sent (the WebSocket handshake took
// its place). Responses other than 101 (errors) go to the real writer.
type tunnelWriter struct {
	w      http.ResponseWriter
	r      *http.Request
	header http.Header

	mu       sync.Mutex
	status   int
	hijacked bool
}

func newTunnelWriter(w http.ResponseWriter, r *http.Request) *tunnelWriter {
	return &tunnelWriter{w: w, r: r, header: http.Header{}}
}

// Header returns the SPDY response's headers.
func (t *tunnelWriter) Header() http.Header { return t.header }

// WriteHeader records a 101 and passes any other status to the client.
func (t *tunnelWriter) WriteHeader(code int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.status != 0 || t.hijacked {
		return
	}
	t.status = code
	if code == http.StatusSwitchingProtocols {
		return
	}
	for k, v := range t.header {
		if k != httpstream.HeaderConnection && k != httpstream.HeaderUpgrade {
			t.w.Header()[k] = v
		}
	}
	t.w.WriteHeader(code)
}

// Write writes an error body to the client.
func (t *tunnelWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	hijacked, status := t.hijacked, t.status
	t.mu.Unlock()
	if hijacked || status == http.StatusSwitchingProtocols {
		return 0, http.ErrHijacked
	}
	if status == 0 {
		t.WriteHeader(http.StatusOK)
	}
	return t.w.Write(p)
}

// Hijack upgrades to a WebSocket whose subprotocol is the tunnelling
// form of the SPDY protocol just negotiated.
func (t *tunnelWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.hijacked || t.status != http.StatusSwitchingProtocols {
		return nil, nil, errors.New("tunnel: hijack without a switching-protocols response")
	}
	t.hijacked = true
	proto := tunnelPrefix + t.header.Get(httpstream.HeaderProtocolVersion)
	up := gwebsocket.Upgrader{Subprotocols: []string{proto}}
	ws, err := up.Upgrade(t.w, t.r, nil)
	if err != nil {
		return nil, nil, err
	}
	conn := clientportforward.NewTunnelingConnection("kubelet-portforward-tunnel", ws)
	return conn, bufio.NewReadWriter(bufio.NewReader(conn), bufio.NewWriter(conn)), nil
}
