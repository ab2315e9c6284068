package server

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
	"k8s.io/streaming/pkg/httpstream"
)

// dialers returns client-go's port-forward dialers for pod: SPDY, and
// SPDY tunnelled through a WebSocket (kubectl 1.30+), without fallback.
func dialers(t *testing.T, e *env, pod string) map[string]httpstream.Dialer {
	t.Helper()
	u, err := url.Parse("https://" + e.addr + "/portForward/default/" + pod)
	if err != nil {
		t.Fatal(err)
	}
	tr, upgrader, err := spdy.RoundTripperFor(e.restConfig())
	if err != nil {
		t.Fatal(err)
	}
	sp := spdy.NewDialerForStreaming(upgrader, &http.Client{Transport: tr}, "POST", u)
	ws, err := portforward.NewSPDYOverWebsocketDialerForStreaming(u, e.restConfig())
	if err != nil {
		t.Fatal(err)
	}
	return map[string]httpstream.Dialer{"spdy": sp, "websocket-tunnel": ws}
}

// forward starts a port-forward of remote port 80 and returns the local
// address.
func forward(t *testing.T, d httpstream.Dialer) (string, <-chan error) {
	t.Helper()
	stop, ready := make(chan struct{}), make(chan struct{})
	fw, err := portforward.NewOnAddressesForStreaming(d, []string{"127.0.0.1"}, []string{"0:80"}, stop, ready, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	errCh := make(chan error, 1)
	go func() { errCh <- fw.ForwardPorts() }()
	t.Cleanup(func() { close(stop); <-errCh })
	select {
	case <-ready:
	case err := <-errCh:
		t.Fatalf("ForwardPorts: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("port-forward not ready")
	}
	ports, err := fw.GetPorts()
	if err != nil {
		t.Fatal(err)
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(int(ports[0].Local))), errCh
}

func TestPortForwardEcho(t *testing.T) {
	e := newEnv(t)
	for name, d := range dialers(t, e, "web") {
		t.Run(name, func(t *testing.T) {
			local, _ := forward(t, d)
			// Two connections over the same forwarding session.
			for i := range 2 {
				c, err := net.DialTimeout("tcp", local, 5*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				msg := bytes.Repeat([]byte{byte('a' + i)}, 100000)
				go func() { _, _ = c.Write(msg) }()
				got := make([]byte, len(msg))
				if _, err := io.ReadFull(c, got); err != nil {
					t.Fatalf("connection %d: read echo: %v", i, err)
				}
				if !bytes.Equal(got, msg) {
					t.Fatalf("connection %d: echo differs", i)
				}
				c.Close()
			}
		})
	}
}

func TestPortForwardUnknownPod(t *testing.T) {
	e := newEnv(t)
	for name, d := range dialers(t, e, "nope") {
		conn, _, err := d.Dial(portforward.PortForwardProtocolV1Name)
		if err == nil {
			conn.Close()
			t.Errorf("%s: dial to an unknown pod succeeded", name)
		}
	}
	code, body := e.do(t, e.client(t, e.certFile, e.keyFile), "POST", "/portForward/default/nope")
	if code != http.StatusNotFound {
		t.Errorf("POST unknown pod: %d %q, want 404", code, body)
	}
	code, body = e.do(t, e.client(t, e.certFile, e.keyFile), "POST", "/portForward/default/web")
	if code != http.StatusBadRequest {
		t.Errorf("POST without upgrade: %d %q, want 400", code, body)
	}
}
