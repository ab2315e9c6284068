package proxy

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"rudder/ingress/route"
)

// noWireEnv makes startProxy serve everything through net/http.
const noWireEnv = "RUDDER_PROXY_NO_WIRE"

// TestSuiteWithoutWirePath runs every other test of the package again
// with the wire path off, so both paths of plain HTTP stay covered.
func TestSuiteWithoutWirePath(t *testing.T) {
	if os.Getenv(noWireEnv) != "" {
		t.Skip("already the run without the wire path")
	}
	cmd := exec.Command(os.Args[0], "-test.count=1", "-test.skip=^(TestSuiteWithoutWirePath|Fuzz.*)$")
	cmd.Env = append(os.Environ(), noWireEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the suite without the wire path failed: %v\n%s", err, out)
	}
}

func TestParseRequest(t *testing.T) {
	for _, tc := range []struct {
		name, head string
		ok         bool
		check      func(t *testing.T, h *reqHead)
	}{
		{"get", "GET /a?b=c HTTP/1.1\r\nHost: x.example\r\nAccept: */*\r\n\r\n", true, func(t *testing.T, h *reqHead) {
			if string(h.path) != "/a" || string(h.query) != "?b=c" || string(h.host) != "x.example" || h.closeConn {
				t.Errorf("parsed %+v", h)
			}
		}},
		{"head", "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", true, nil},
		{"connection close", "GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Close\r\n\r\n", true, func(t *testing.T, h *reqHead) {
			if !h.closeConn || !h.fields[1].drop {
				t.Errorf("closeConn %v, fields %+v", h.closeConn, h.fields)
			}
		}},
		{"forwarded and id", "GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 1.2.3.4\r\nx-request-id: abc\r\nX-Real-IP: 9.9.9.9\r\n\r\n", true, func(t *testing.T, h *reqHead) {
			if string(h.xff) != "1.2.3.4" || string(h.requestID) != "abc" || !h.fields[1].drop || !h.fields[3].drop {
				t.Errorf("parsed %+v", h)
			}
		}},
		{"empty body length", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", true, nil},
		{"post", "POST / HTTP/1.1\r\nHost: x\r\n\r\n", false, nil},
		{"http/1.0", "GET / HTTP/1.0\r\nHost: x\r\n\r\n", false, nil},
		{"body", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n", false, nil},
		{"chunked", "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", false, nil},
		{"upgrade", "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", false, nil},
		{"expect", "GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n", false, nil},
		{"connection option", "GET / HTTP/1.1\r\nHost: x\r\nConnection: X-Secret\r\n\r\n", false, nil},
		{"no host", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", false, nil},
		{"two hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", false, nil},
		{"escaped path", "GET /a%2Fb HTTP/1.1\r\nHost: x\r\n\r\n", false, nil},
		{"absolute form", "GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n", false, nil},
		{"double slash", "GET //x HTTP/1.1\r\nHost: x\r\n\r\n", false, nil},
		{"space in name", "GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n", false, nil},
		{"obs-fold", "GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n c\r\n\r\n", false, nil},
		{"control in value", "GET / HTTP/1.1\r\nHost: x\r\nA: b\x00c\r\n\r\n", false, nil},
		{"bare LF in value", "GET / HTTP/1.1\r\nHost: x\r\nA: b\nC: d\r\n\r\n", false, nil},
		{"h2c preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", false, nil},
		{"space in host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", false, nil},
		{"slash in host", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", false, nil},
		{"ipv6 host", "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", true, nil},
		{"two empty lengths", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n", false, nil},
		{"two forwarded-for", "GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: a\r\nX-Forwarded-For: b\r\n\r\n", false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h reqHead
			if got := parseRequest([]byte(tc.head), &h); got != tc.ok {
				t.Fatalf("parseRequest = %v, want %v", got, tc.ok)
			}
			if tc.ok && h.size != len(tc.head) {
				t.Errorf("size %d, want %d", h.size, len(tc.head))
			}
			if tc.check != nil {
				tc.check(t, &h)
			}
		})
	}
}

func TestParseResponse(t *testing.T) {
	for _, tc := range []struct {
		name, head  string
		err         bool
		status      int
		length      int64
		chunked, cl bool
	}{
		{name: "length", head: "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n", status: 200, length: 12},
		{name: "chunked", head: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", status: 200, length: -1, chunked: true},
		{name: "no reason", head: "HTTP/1.1 204\r\n\r\n", status: 204, length: -1},
		{name: "close", head: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n", status: 200, length: 1, cl: true},
		{name: "http/1.0", head: "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", status: 200, length: 1, cl: true},
		{name: "http/1.0 keep-alive", head: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n", status: 200, length: 1},
		{name: "same length twice", head: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", status: 200, length: 3},
		{name: "both framings", head: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", err: true},
		{name: "two lengths", head: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", err: true},
		{name: "gzip encoding", head: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", err: true},
		{name: "negative length", head: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", err: true},
		{name: "bad status", head: "HTTP/1.1 2x0 OK\r\n\r\n", err: true},
		{name: "http/2", head: "HTTP/2 200\r\n\r\n", err: true},
		{name: "bad field", head: "HTTP/1.1 200 OK\r\nA b: c\r\n\r\n", err: true},
		{name: "signed length", head: "HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\n", err: true},
		{name: "chunked in http/1.0", head: "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", err: true},
		{name: "LF in reason", head: "HTTP/1.1 200 OK\nX-Injected: 1\r\n\r\n", err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h respHead
			err := parseResponse([]byte(tc.head), &h)
			if (err != nil) != tc.err {
				t.Fatalf("err = %v, want error %v", err, tc.err)
			}
			if tc.err {
				return
			}
			if h.status != tc.status || h.contentLength != tc.length || h.chunked != tc.chunked || h.closeConn != tc.cl {
				t.Errorf("got status %d length %d chunked %v close %v", h.status, h.contentLength, h.chunked, h.closeConn)
			}
		})
	}
}

func TestCopyChunked(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		err      bool
		n        int64
	}{
		{name: "chunks and trailers", in: "5;ext=1\r\nhello\r\n1\r\n!\r\n0\r\nX-Sum: 6\r\n\r\n", n: 6},
		{name: "empty", in: "0\r\n\r\n"},
		{name: "bad size", in: "zz\r\nhello\r\n0\r\n\r\n", err: true},
		{name: "missing CRLF after data", in: "5\r\nhelloX\r\n0\r\n\r\n", err: true},
		{name: "bare LF", in: "5\nhello\r\n0\r\n\r\n", err: true},
		{name: "truncated", in: "5\r\nhel", err: true},
		{name: "signed size", in: "+5\r\nhello\r\n0\r\n\r\n", err: true},
		{name: "negative zero", in: "-0\r\n\r\n", err: true},
		{name: "17 digits", in: "00000000000000005\r\nhello\r\n0\r\n\r\n", err: true},
		{name: "CR in extension", in: "5;a\rb\r\nhello\r\n0\r\n\r\n", err: true},
		{name: "bad trailer", in: "0\r\nA b: c\r\n\r\n", err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			w := bufio.NewWriter(&out)
			n, err := (&bodyRelay{w: w, r: bufio.NewReader(strings.NewReader(tc.in))}).chunked()
			w.Flush()
			if (err != nil) != tc.err {
				t.Fatalf("err = %v, want error %v", err, tc.err)
			}
			if !tc.err && (n != tc.n || out.String() != tc.in) {
				t.Errorf("copied %d bytes %q, want %d and the input verbatim", n, out.String(), tc.n)
			}
		})
	}
}

// rawExchange writes raw bytes to the proxy's HTTP listener and reads n
// responses.
func rawExchange(t *testing.T, addr, raw string, n int) []*http.Response {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return exchangeOn(t, c, raw, n)
}

// exchangeOn is rawExchange on c, which it closes.
func exchangeOn(t *testing.T, c net.Conn, raw string, n int) []*http.Response {
	t.Helper()
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var out []*http.Response
	for range n {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("response %d: %v", len(out)+1, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body = io.NopCloser(bytes.NewReader(b))
		out = append(out, resp)
	}
	return out
}

func bodyOf(r *http.Response) string {
	b, _ := io.ReadAll(r.Body)
	return string(b)
}

// TestWirePipelineAndHandoff: pipelined requests answered in order, and a
// request the wire path cannot take (a POST with a body) in the middle of
// a connection hands it to net/http, which serves the rest.
func TestWirePipelineAndHandoff(t *testing.T) {
	if os.Getenv(noWireEnv) != "" {
		t.Skip("wire path off")
	}
	ep := backend(t, "b", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		io.WriteString(w, r.Method+" "+r.URL.Path+" "+string(b))
	})
	tp := startProxy(t, Config{})
	tp.p.Swap(table(backendOf(ep), &route.Policy{}))
	raw := "GET /one HTTP/1.1\r\nHost: a\r\n\r\n" +
		"GET /two HTTP/1.1\r\nHost: a\r\n\r\n" +
		"POST /three HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbody" +
		"GET /four HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
	resps := rawExchange(t, tp.httpAddr, raw, 4)
	want := []string{"GET /one ", "GET /two ", "POST /three body", "GET /four "}
	for i, r := range resps {
		if got := bodyOf(r); r.StatusCode != 200 || got != want[i] {
			t.Errorf("response %d: %d %q, want 200 %q", i+1, r.StatusCode, got, want[i])
		}
		if r.Header.Get("X-Request-Id") == "" {
			t.Errorf("response %d has no X-Request-Id", i+1)
		}
	}
	if got := counterValue(t, tp.p.metrics.wire); got != 2 {
		t.Errorf("wire path served %v requests, want 2 (then net/http)", got)
	}
}

// TestWireOverTLS: HTTP/1.1 over TLS takes the wire path too, with
// X-Forwarded-Proto https and no redirect on an ssl-redirect route; a
// request it cannot take hands the TLS connection to net/http, which
// still knows the scheme; HTTP/2 clients are net/http's from the start.
func TestWireOverTLS(t *testing.T) {
	if os.Getenv(noWireEnv) != "" {
		t.Skip("wire path off")
	}
	ep := backend(t, "b", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s %s %s %s", r.Method, r.URL.Path, r.Header.Get("X-Forwarded-Proto"), r.Header.Get("X-Forwarded-Port"), b)
	})
	tp := startProxy(t, Config{})
	tp.p.Swap(table(backendOf(ep), &route.Policy{SSLRedirect: true}))
	_, port, _ := net.SplitHostPort(tp.httpsAddr)
	c, err := tls.Dial("tcp", tp.httpsAddr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	raw := "GET /one HTTP/1.1\r\nHost: a\r\n\r\n" +
		"POST /two HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbody" +
		"GET /three HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
	resps := exchangeOn(t, c, raw, 3)
	want := []string{"GET /one https " + port + " ", "POST /two https " + port + " body", "GET /three https " + port + " "}
	for i, r := range resps {
		if got := bodyOf(r); r.StatusCode != 200 || got != want[i] {
			t.Errorf("response %d: %d %q, want 200 %q", i+1, r.StatusCode, got, want[i])
		}
	}
	if got := counterValue(t, tp.p.metrics.wire); got != 1 {
		t.Errorf("wire path served %v requests, want 1 (then net/http)", got)
	}

	resp, err := tp.client(t, true).Get("https://a/h2")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.ProtoMajor != 2 || string(b) != "GET /h2 https "+port+" " {
		t.Errorf("HTTP/2 client: %s %q", resp.Proto, b)
	}
	if got := counterValue(t, tp.p.metrics.wire); got != 1 {
		t.Errorf("an HTTP/2 request took the wire path (%v)", got)
	}
	// Plain HTTP on the same route is redirected (by net/http's path).
	if r := get(t, tp.client(t, false), "http://a/x"); r.code != http.StatusPermanentRedirect {
		t.Errorf("plain HTTP to an ssl-redirect route: %d, want 308", r.code)
	}
}

// TestTLSHandshakeTimeout: a client that opens the HTTPS port and says
// nothing is closed after the read-header timeout.
func TestTLSHandshakeTimeout(t *testing.T) {
	tp := startProxy(t, Config{ReadHeaderTimeout: 200 * time.Millisecond})
	c, err := net.Dial("tcp", tp.httpsAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	_, err = c.Read(make([]byte, 1))
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the proxy kept a silent TLS client for %v", time.Since(start))
	}
	if err == nil {
		t.Fatal("the proxy sent something to a client that sent nothing")
	}
}

// TestWireStaleConnection: a pooled connection the endpoint closed while
// idle is replaced without the client noticing.
func TestWireStaleConnection(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	srv.Config.IdleTimeout = 20 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	tp := startProxy(t, Config{})
	tp.p.Swap(table(backendOf(addrPortOf(t, srv)), &route.Policy{}))
	c := tp.client(t, false)
	for i := range 4 {
		if r := get(t, c, "http://a/x"); r.code != 200 || r.body != "ok" {
			t.Fatalf("request %d: %d %q", i+1, r.code, r.body)
		}
		time.Sleep(60 * time.Millisecond) // the backend closes the idle connection
	}
}

// TestWireCloseDelimited: a response without length or chunking ends
// when the upstream closes; the client's connection is closed after it.
// TestWireBareLF: a head with bare LF line ends, which net/http reads
// and the wire path's CRLF CRLF search never ends, goes to net/http at
// once instead of waiting out the read-header timeout.
func TestWireBareLF(t *testing.T) {
	ep := backend(t, "b", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.URL.Path) })
	tp := startProxy(t, Config{ReadHeaderTimeout: time.Minute})
	tp.p.Swap(table(backendOf(ep), &route.Policy{}))
	raw := "GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /two HTTP/1.1\nHost: a\nConnection: close\n\n"
	for i, r := range rawExchange(t, tp.httpAddr, raw, 2) {
		if want := []string{"/one", "/two"}[i]; r.StatusCode != 200 || bodyOf(r) != want {
			t.Errorf("response %d: %d, want 200 %q", i+1, r.StatusCode, want)
		}
	}
}

// TestMalformedHost: a Host net/http's server refuses is refused on the
// wire path too (it hands such a request to net/http), never routed.
func TestMalformedHost(t *testing.T) {
	// A backend that answers anything: Go's own would refuse the host.
	ep := rawBackend(t, "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nreached")
	tp := startProxy(t, Config{})
	tp.p.Swap(table(backendOf(ep), &route.Policy{}))
	if r := rawExchange(t, tp.httpAddr, "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 1)[0]; r.StatusCode != 400 {
		t.Errorf("status %d, want 400", r.StatusCode)
	}
}

func TestWireCloseDelimited(t *testing.T) {
	ep := rawBackend(t, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close")
	tp := startProxy(t, Config{})
	tp.p.Swap(table(backendOf(ep), &route.Policy{}))
	resps := rawExchange(t, tp.httpAddr, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 1)
	if got := bodyOf(resps[0]); got != "until close" {
		t.Errorf("body %q", got)
	}
	// net/http re-frames the body as chunked instead of closing.
	if os.Getenv(noWireEnv) == "" && !resps[0].Close {
		t.Error("the wire path kept the client connection open after a close-delimited body")
	}
}
