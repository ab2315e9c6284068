package proxy

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"rudder/ingress/route"
)

// TestWireAndNetHTTPForwardAlike sends the same requests through a proxy
// with the wire path and one without, over plain HTTP and over TLS, and
// compares what the backend receives and what the client gets back: the
// two paths must forward alike (header names may differ in case: net/http
// canonicalizes them).
func TestWireAndNetHTTPForwardAlike(t *testing.T) {
	if os.Getenv(noWireEnv) != "" {
		t.Skip("wire path off")
	}
	be := newRecordingBackend(t, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Up: 1\r\nX-Up: 2\r\n"+
		"Connection: keep-alive\r\nKeep-Alive: timeout=5\r\nCache-Control: no-cache\r\n\r\nok", false)
	wire := startProxy(t, Config{})
	plain := startProxy(t, Config{NoWirePath: true})
	rewrite := &route.Route{Path: "/api", PathType: route.Regex, Backend: backendOf(be.addr),
		Pattern: regexp.MustCompile(`(?i)^/api(/|$)(.*)`), Policy: &route.Policy{RewriteTarget: "/v2/$2"}}
	for _, tc := range []struct {
		name, head string
		rt         *route.Route // nil: every request to the backend
	}{
		{"get", "GET /a/b?c=d&e HTTP/1.1\r\nHost: foo.example\r\n\r\n", nil},
		// (close: rawExchange reads a HEAD response as a GET's.)
		{"head", "HEAD / HTTP/1.1\r\nHost: foo.example\r\nAccept: */*\r\nConnection: close\r\n\r\n", nil},
		{"no user agent", "GET / HTTP/1.1\r\nHost: foo.example\r\n\r\n", nil},
		{"lower-case and repeated fields", "GET / HTTP/1.1\r\nhost: foo.example:8080\r\nx-a: 1\r\nX-A: 2\r\nuser-agent: wrk\r\n\r\n", nil},
		{"client forwarding fields", "GET / HTTP/1.1\r\nHost: foo.example\r\nX-Forwarded-For: 192.0.2.1\r\n" +
			"X-Forwarded-Proto: https\r\nX-Forwarded-Host: evil.example\r\nX-Forwarded-Port: 1\r\nX-Real-IP: 192.0.2.9\r\n" +
			"X-Request-ID: abc-123\r\n\r\n", nil},
		{"hop-by-hop", "GET / HTTP/1.1\r\nHost: foo.example\r\nConnection: keep-alive\r\nKeep-Alive: timeout=9\r\n" +
			"Proxy-Connection: keep-alive\r\nTE: trailers\r\n\r\n", nil},
		{"empty body length", "GET / HTTP/1.1\r\nHost: foo.example\r\nContent-Length: 0\r\n\r\n", nil},
		{"encodings", "GET / HTTP/1.1\r\nHost: foo.example\r\nAccept-Encoding: gzip, br\r\n\r\n", nil},
		{"rewrite with capture groups", "GET /api/users/7?x=1&y HTTP/1.1\r\nHost: foo.example\r\n\r\n", rewrite},
		{"rewrite of the bare prefix", "GET /api?x HTTP/1.1\r\nHost: foo.example\r\n\r\n", rewrite},
	} {
		for _, overTLS := range []bool{false, true} {
			name := tc.name
			if overTLS {
				name += " over TLS"
			}
			t.Run(name, func(t *testing.T) { forwardAlike(t, be, wire, plain, tc.head, tc.rt, overTLS) })
		}
	}
}

// forwardAlike is one request of TestWireAndNetHTTPForwardAlike through
// both proxies, rt (nil: any request) routing it.
func forwardAlike(t *testing.T, be *recordingBackend, wire, plain *testProxy, head string, rt *route.Route, overTLS bool) {
	tbl := table(backendOf(be.addr), &route.Policy{})
	if rt != nil {
		tbl = &fakeTable{routes: []*route.Route{rt}}
	}
	wire.p.Swap(tbl)
	plain.p.Swap(tbl)
	addr := func(tp *testProxy) string {
		if overTLS {
			return tp.httpsAddr
		}
		return tp.httpAddr
	}
	wireServed := counterValue(t, wire.p.metrics.wire)
	viaWire, respWire := be.exchange(t, addr(wire), head, overTLS)
	viaPlain, respPlain := be.exchange(t, addr(plain), head, overTLS)
	if counterValue(t, wire.p.metrics.wire) != wireServed+1 {
		t.Fatal("the wire path did not serve the request: nothing compared")
	}
	if d := diffRequests(viaWire, viaPlain); d != "" {
		t.Errorf("the backend received different requests (wire / net/http):\n%s", d)
	}
	if d := diffHeaders(respWire, respPlain, "Date", "X-Request-Id"); d != "" {
		t.Errorf("the client got different responses (wire / net/http):\n%s", d)
	}
	for _, c := range []struct {
		tp   *testProxy
		req  *http.Request
		resp http.Header
	}{{wire, viaWire, respWire}, {plain, viaPlain, respPlain}} {
		_, port, _ := net.SplitHostPort(addr(c.tp))
		if got := c.req.Header.Get("X-Forwarded-Port"); got != port {
			t.Errorf("X-Forwarded-Port %q, want the proxy's port %s", got, port)
		}
		if id := c.resp.Get("X-Request-Id"); id != c.req.Header.Get("X-Request-Id") {
			t.Errorf("X-Request-Id %q to the client, %q to the backend", id, c.req.Header.Get("X-Request-Id"))
		}
		if _, err := http.ParseTime(c.resp.Get("Date")); err != nil {
			t.Errorf("Date: %v", err)
		}
	}
	want := "http"
	if overTLS {
		want = "https"
	}
	if got := viaWire.Header.Get("X-Forwarded-Proto"); got != want {
		t.Errorf("X-Forwarded-Proto %q, want %s", got, want)
	}
}

// recordingBackend answers every request with one raw response and
// records the requests. It keeps connections open unless oneShot, or
// unless the answer closes them (HTTP/1.0, Connection: close).
type recordingBackend struct {
	addr netip.AddrPort
	mu   sync.Mutex
	reqs []*http.Request
}

func newRecordingBackend(t *testing.T, answer string, oneShot bool) *recordingBackend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	b := &recordingBackend{addr: netip.MustParseAddrPort(ln.Addr().String())}
	closes := oneShot || strings.HasPrefix(answer, "HTTP/1.0") || strings.Contains(answer, "Connection: close")
	head, _, _ := strings.Cut(answer, "\r\n\r\n")
	head += "\r\n\r\n" // all of the answer to a HEAD request
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, req.Body)
					b.mu.Lock()
					b.reqs = append(b.reqs, req)
					b.mu.Unlock()
					out := answer
					if req.Method == http.MethodHead {
						out = head
					}
					if _, err := io.WriteString(c, out); err != nil || closes {
						return
					}
				}
			}()
		}
	}()
	return b
}

// exchange sends head to the proxy at addr and returns what the backend
// received and the response's header.
func (b *recordingBackend) exchange(t *testing.T, addr, head string, overTLS bool) (*http.Request, http.Header) {
	t.Helper()
	b.mu.Lock()
	n := len(b.reqs)
	b.mu.Unlock()
	var resp *http.Response
	if overTLS {
		c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
		if err != nil {
			t.Fatal(err)
		}
		resp = exchangeOn(t, c, head, 1)[0]
	} else {
		resp = rawExchange(t, addr, head, 1)[0]
	}
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.reqs) != n+1 {
		t.Fatalf("the backend got %d requests, want 1", len(b.reqs)-n)
	}
	return b.reqs[n], resp.Header
}

// diffRequests describes how two forwarded requests differ; X-Request-Id
// is compared by presence and length when the proxies generated it.
func diffRequests(a, b *http.Request) string {
	var d []string
	if a.Method != b.Method || a.RequestURI != b.RequestURI || a.Host != b.Host || a.ContentLength != b.ContentLength {
		d = append(d, a.Method+" "+a.RequestURI+" "+a.Host+" / "+b.Method+" "+b.RequestURI+" "+b.Host)
	}
	ida, idb := a.Header.Get("X-Request-Id"), b.Header.Get("X-Request-Id")
	if len(ida) != len(idb) || (len(ida) != 32 && ida != idb) {
		d = append(d, "X-Request-Id: "+ida+" / "+idb)
	}
	if h := diffHeaders(a.Header, b.Header, "X-Request-Id", "X-Forwarded-Port"); h != "" {
		d = append(d, h)
	}
	return strings.Join(d, "\n")
}

// diffHeaders lists the fields whose values differ, skipping skip.
func diffHeaders(a, b http.Header, skip ...string) string {
	var d []string
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range keys {
			if !yield(k) {
				return
			}
		}
	}) {
		if !slices.Contains(skip, k) && !slices.Equal(a[k], b[k]) {
			d = append(d, k+": "+strings.Join(a[k], ", ")+" / "+strings.Join(b[k], ", "))
		}
	}
	return strings.Join(d, "\n")
}

// TestWireAndNetHTTPRelayAlike is the same comparison for responses: the
// upstream answers in different ways and the client must get the same
// status, fields and body from both paths (framing may differ: net/http
// re-frames a close-delimited body as chunked).
func TestWireAndNetHTTPRelayAlike(t *testing.T) {
	if os.Getenv(noWireEnv) != "" {
		t.Skip("wire path off")
	}
	for _, tc := range []struct{ name, answer string }{
		{"typed with date", "HTTP/1.1 200 OK\r\nDate: Mon, 02 Jan 2006 15:04:05 GMT\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\n<p>x\n"},
		{"markup without a type", "HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n<html>x</html>"},
		{"chunked with trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n3\r\nabc\r\n0\r\nX-Sum: 3\r\n\r\n"},
		{"no content", "HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n"},
		{"not modified", "HTTP/1.1 304 Not Modified\r\nEtag: \"v1\"\r\n\r\n"},
		{"http/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"},
		{"hop-by-hop", "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Private\r\nKeep-Alive: timeout=5\r\nProxy-Connection: x\r\nX-Private: secret\r\nContent-Length: 2\r\n\r\nok"},
		{"status text", "HTTP/1.1 404 Gone Fishing\r\nContent-Length: 0\r\n\r\n"},
		{"redirect", "HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n"},
		{"until close", "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			be := newRecordingBackend(t, tc.answer, false)
			var got []*http.Response
			for _, cfg := range []Config{{}, {NoWirePath: true}} {
				tp := startProxy(t, cfg)
				tp.p.Swap(table(backendOf(be.addr), &route.Policy{}))
				got = append(got, rawExchange(t, tp.httpAddr, "GET / HTTP/1.1\r\nHost: foo.example\r\n\r\n", 1)[0])
			}
			// The reason phrase may differ: the wire path passes the
			// upstream's on, as nginx does; net/http writes its own.
			w, n := got[0], got[1]
			if w.StatusCode != n.StatusCode {
				t.Errorf("status %q / %q", w.Status, n.Status)
			}
			framing := []string{"Date", "X-Request-Id", "Content-Length", "Transfer-Encoding", "Connection"}
			if d := diffHeaders(w.Header, n.Header, framing...); d != "" {
				t.Errorf("fields differ (wire / net/http):\n%s", d)
			}
			if bw, bn := bodyOf(w), bodyOf(n); bw != bn {
				t.Errorf("body %q / %q", bw, bn)
			}
			if !slices.Equal(w.Trailer["X-Sum"], n.Trailer["X-Sum"]) {
				t.Errorf("trailer %q / %q", w.Trailer, n.Trailer)
			}
		})
	}
}
