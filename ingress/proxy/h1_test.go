package proxy

import (
	"net/http"
	"net/netip"
	"testing"

	"rudder/ingress/route"
)

// oneShotBackend answers one request per connection, then closes it
// without saying so: the proxy's pooled connection goes stale.
func oneShotBackend(t *testing.T) netip.AddrPort {
	return rawBackend(t, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
}

// rawBackend reads one request per connection, writes answer and closes
// the connection.
func rawBackend(t *testing.T, answer string) netip.AddrPort {
	return newRecordingBackend(t, answer, true).addr
}

func TestStalePooledConnectionRetried(t *testing.T) {
	tp := startProxy(t, Config{})
	tp.p.Swap(table(backendOf(oneShotBackend(t)), &route.Policy{}))
	c := tp.client(t, false)
	for i := range 5 {
		if r := get(t, c, "http://foo.example/"); r.code != http.StatusOK || r.body != "ok" {
			t.Fatalf("request %d: %d %q", i, r.code, r.body)
		}
	}
}

func TestKeepAlivePool(t *testing.T) {
	ep := backend(t, "a", nil)
	tp := startProxy(t, Config{})
	tp.p.Swap(table(backendOf(ep), &route.Policy{}))
	c := tp.client(t, false)
	for range 3 {
		get(t, c, "http://foo.example/")
	}
	e := tp.p.endpoints.get(ep.String())
	e.h1.mu.Lock()
	n := len(e.h1.idle)
	e.h1.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d idle connections after 3 sequential requests, want 1", n)
	}
	// HEAD and 204 responses have no body and keep the connection too.
	req, _ := http.NewRequest(http.MethodHead, "http://foo.example/", nil)
	if r := do(t, c, req); r.code != http.StatusOK {
		t.Fatalf("HEAD: %d", r.code)
	}
	e.h1.mu.Lock()
	n = len(e.h1.idle)
	e.h1.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d idle connections after HEAD, want 1", n)
	}
}
