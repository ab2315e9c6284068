package proxy

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"rudder/ingress/route"
)

func TestNoTableNoRouteNoEndpoints(t *testing.T) {
	tp := startProxy(t, Config{})
	c := tp.client(t, false)
	if r := get(t, c, "http://foo.example/"); r.code != http.StatusServiceUnavailable {
		t.Fatalf("before Swap: got %d, want 503", r.code)
	}
	tp.p.Swap(&fakeTable{routes: []*route.Route{
		{Host: "empty.example", Path: "/", Backend: backendOf(), Policy: &route.Policy{}},
		{Host: "missing.example", Path: "/"},
	}})
	for url, want := range map[string]int{
		"http://foo.example/":     http.StatusNotFound,
		"http://empty.example/":   http.StatusServiceUnavailable,
		"http://missing.example/": http.StatusServiceUnavailable,
	} {
		if r := get(t, c, url); r.code != want {
			t.Errorf("GET %s: got %d, want %d", url, r.code, want)
		}
	}
}

func TestTLSSNI(t *testing.T) {
	foo, bar, def := testCert(t, "foo.example"), testCert(t, "*.bar.example"), testCert(t, "default.example")
	tp := startProxy(t, Config{})
	check := func(cases []struct{ sni, want string }) {
		t.Helper()
		for _, tc := range cases {
			conn, err := tls.Dial("tcp", tp.httpsAddr, &tls.Config{ServerName: tc.sni, InsecureSkipVerify: true})
			if err != nil {
				t.Fatalf("dial with SNI %q: %v", tc.sni, err)
			}
			got := conn.ConnectionState().PeerCertificates[0].Subject.CommonName
			conn.Close()
			if got != tc.want {
				t.Errorf("SNI %q: got certificate %q, want %q", tc.sni, got, tc.want)
			}
		}
	}
	certs := map[string]*tls.Certificate{"foo.example": foo, "*.bar.example": bar}
	tp.p.Swap(&fakeTable{certs: certs})
	check([]struct{ sni, want string }{
		{"foo.example", "foo.example"},
		{"FOO.example", "foo.example"},
		{"x.bar.example", "*.bar.example"},
		{"unknown.example", defaultCertName},
		{"", defaultCertName},
	})
	// A table with a default certificate (--default-ssl-certificate)
	// replaces the generated one, for unknown names and clients without
	// SNI alike.
	tp.p.Swap(&fakeTable{certs: certs, def: def})
	check([]struct{ sni, want string }{
		{"foo.example", "foo.example"},
		{"unknown.example", "default.example"},
		{"", "default.example"},
	})
}

func TestHTTP2OverTLS(t *testing.T) {
	tp := startProxy(t, Config{})
	tp.p.Swap(table(backendOf(backend(t, "a", nil)), &route.Policy{}))
	resp, err := tp.client(t, true).Get("https://foo.example/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 2 || resp.StatusCode != http.StatusOK {
		t.Fatalf("got %s %d, want HTTP/2 200", resp.Proto, resp.StatusCode)
	}
}

func TestH2C(t *testing.T) {
	tp := startProxy(t, Config{H2C: true})
	tp.p.Swap(table(backendOf(backend(t, "a", nil)), &route.Policy{}))
	protos := new(http.Protocols)
	protos.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: protos}
	t.Cleanup(tr.CloseIdleConnections)
	resp, err := (&http.Client{Transport: tr}).Get("http://" + tp.httpAddr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 2 || resp.StatusCode != http.StatusOK {
		t.Fatalf("got %s %d, want HTTP/2 200", resp.Proto, resp.StatusCode)
	}
}

func TestWebsocketEcho(t *testing.T) {
	up := websocket.Upgrader{}
	ep := backend(t, "ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			mt, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := c.WriteMessage(mt, msg); err != nil {
				return
			}
		}
	})
	tp := startProxy(t, Config{})
	tp.p.Swap(table(backendOf(ep), &route.Policy{}))
	for _, tc := range []struct{ name, url string }{
		{"plain", "ws://" + tp.httpAddr + "/echo"},
		{"TLS", "wss://" + tp.httpsAddr + "/echo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := websocket.Dialer{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
			conn, resp, err := d.Dial(tc.url, nil)
			if err != nil {
				t.Fatalf("dial websocket: %v (response %v)", err, resp)
			}
			defer conn.Close()
			for i := range 3 {
				msg := fmt.Sprintf("hello %d", i)
				if err := conn.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
					t.Fatal(err)
				}
				_, got, err := conn.ReadMessage()
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != msg {
					t.Fatalf("echo: got %q, want %q", got, msg)
				}
			}
			// The tunnel is an active client connection until it closes.
			if n := gaugeValue(t, tp.p.metrics.active); n != 1 {
				t.Errorf("active connections with the websocket open: %v, want 1", n)
			}
			conn.Close()
			waitUntil(t, "no active connection", func() bool { return gaugeValue(t, tp.p.metrics.active) == 0 })
		})
	}
}

func TestStreamedResponse(t *testing.T) {
	next := make(chan struct{})
	ep := backend(t, "s", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: one\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-next:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, "data: two\n\n")
	})
	tp := startProxy(t, Config{})
	tp.p.Swap(table(backendOf(ep), &route.Policy{}))
	resp, err := tp.client(t, false).Get("http://foo.example/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	if err != nil || line != "data: one\n" {
		t.Fatalf("first chunk: %q, %v", line, err)
	}
	close(next) // the backend writes the second chunk only now
	rest, err := io.ReadAll(br)
	if err != nil || string(rest) != "\ndata: two\n\n" {
		t.Fatalf("rest: %q, %v", rest, err)
	}
}

func TestBodyLimit(t *testing.T) {
	var got int64
	ep := backend(t, "b", func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got = n
		io.WriteString(w, "ok")
	})
	tp := startProxy(t, Config{})
	tp.p.Swap(table(backendOf(ep), &route.Policy{BodyLimit: 1024}))
	c := tp.client(t, false)
	post := func(body io.Reader) int {
		req, _ := http.NewRequest(http.MethodPost, "http://foo.example/", body)
		return do(t, c, req).code
	}
	if code := post(strings.NewReader(strings.Repeat("x", 1024))); code != http.StatusOK || got != 1024 {
		t.Errorf("1024 bytes: got %d (backend read %d), want 200", code, got)
	}
	if code := post(strings.NewReader(strings.Repeat("x", 1025))); code != http.StatusRequestEntityTooLarge {
		t.Errorf("Content-Length 1025: got %d, want 413", code)
	}
	// A reader of unknown length is sent chunked.
	if code := post(io.MultiReader(strings.NewReader(strings.Repeat("x", 4096)))); code != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked 4096: got %d, want 413", code)
	}
	if code := post(io.MultiReader(strings.NewReader(strings.Repeat("x", 100)))); code != http.StatusOK {
		t.Errorf("chunked 100: got %d, want 200", code)
	}
}

func TestHeaderLimit(t *testing.T) {
	tp := startProxy(t, Config{})
	tp.p.Swap(table(backendOf(backend(t, "a", nil)), &route.Policy{}))
	req, _ := http.NewRequest(http.MethodGet, "http://foo.example/", nil)
	req.Header.Set("X-Big", strings.Repeat("x", 64<<10))
	if r := do(t, tp.client(t, false), req); r.code != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("64 KiB header: got %d, want 431", r.code)
	}
	req.Header.Set("X-Big", strings.Repeat("x", 16<<10))
	if r := do(t, tp.client(t, false), req); r.code != http.StatusOK {
		t.Fatalf("16 KiB header: got %d, want 200", r.code)
	}
}

func TestUpstreamTimeout(t *testing.T) {
	release := make(chan struct{})
	ep := backend(t, "slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) })
	tp := startProxy(t, Config{})
	tp.p.Swap(table(backendOf(ep), &route.Policy{ReadTimeout: 100 * time.Millisecond}))
	if r := get(t, tp.client(t, false), "http://foo.example/"); r.code != http.StatusGatewayTimeout {
		t.Fatalf("got %d, want 504", r.code)
	}
}

func TestRetryOnConnectFailure(t *testing.T) {
	dead := closedPort(t)
	live := backend(t, "live", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "ok")
	})
	tp := startProxy(t, Config{})
	tp.p.Swap(table(backendOf(dead, live), &route.Policy{Balance: route.RoundRobin}))
	c := tp.client(t, false)
	// POSTs first (before the dead endpoint is ejected): the ones sent
	// to the dead endpoint fail with 502, they are not retried.
	codes := map[int]int{}
	for range 4 {
		req, _ := http.NewRequest(http.MethodPost, "http://foo.example/", strings.NewReader("body"))
		codes[do(t, c, req).code]++
	}
	if codes[http.StatusBadGateway] == 0 || codes[http.StatusOK] == 0 || len(codes) != 2 {
		t.Errorf("POST codes %v, want both 200 and 502", codes)
	}
	for i := range 10 {
		if r := get(t, c, "http://foo.example/"); r.code != http.StatusOK || r.backend != "live" {
			t.Fatalf("GET %d: got %d from %q, want 200 from live", i, r.code, r.backend)
		}
	}
	if n := counterValue(t, tp.p.metrics.retries); n == 0 {
		t.Error("no retry counted")
	}
}

func TestEjection(t *testing.T) {
	dead := closedPort(t)
	live := backend(t, "live", nil)
	tp := startProxy(t, Config{})
	tp.p.Swap(table(backendOf(dead, live), &route.Policy{Balance: route.RoundRobin}))
	c := tp.client(t, false)
	for range 12 {
		if r := get(t, c, "http://foo.example/"); r.code != http.StatusOK {
			t.Fatalf("got %d, want 200", r.code)
		}
	}
	if n := counterValue(t, tp.p.metrics.ejections); n != 1 {
		t.Fatalf("ejections: got %v, want 1", n)
	}
	before := counterValue(t, tp.p.metrics.retries)
	for range 10 {
		get(t, c, "http://foo.example/")
	}
	if after := counterValue(t, tp.p.metrics.retries); after != before {
		t.Fatalf("the ejected endpoint was still tried: retries %v -> %v", before, after)
	}
}

func TestRoundRobinSpread(t *testing.T) {
	eps := []netip.AddrPort{backend(t, "a", nil), backend(t, "b", nil), backend(t, "c", nil)}
	tp := startProxy(t, Config{})
	tp.p.Swap(table(backendOf(eps...), &route.Policy{Balance: route.RoundRobin}))
	c := tp.client(t, false)
	seen := map[string]int{}
	for range 30 {
		seen[get(t, c, "http://foo.example/").backend]++
	}
	if seen["a"] != 10 || seen["b"] != 10 || seen["c"] != 10 {
		t.Fatalf("spread %v, want 10 each", seen)
	}
}

func TestLeastRequest(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	busy := backend(t, "busy", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			entered <- struct{}{}
			<-release
		}
		io.WriteString(w, "ok")
	})
	idle := backend(t, "idle", nil)
	tp := startProxy(t, Config{})
	// Hold a request on "busy" first: one endpoint, so it must go there.
	tp.p.Swap(table(backendOf(busy), &route.Policy{Balance: route.LeastRequest}))
	c := tp.client(t, false)
	held := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, "http://foo.example/hold", nil)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
			held <- result{code: resp.StatusCode}
			return
		}
		held <- result{}
	}()
	<-entered
	tp.p.Swap(table(backendOf(busy, idle), &route.Policy{Balance: route.LeastRequest}))
	for i := range 6 {
		if r := get(t, c, "http://foo.example/"); r.backend != "idle" {
			t.Fatalf("request %d went to %q, want idle (busy has one outstanding)", i, r.backend)
		}
	}
	close(release)
	if r := <-held; r.code != http.StatusOK {
		t.Fatalf("held request: %d", r.code)
	}
}

func TestAffinityCookie(t *testing.T) {
	eps := []netip.AddrPort{backend(t, "a", nil), backend(t, "b", nil), backend(t, "c", nil)}
	tp := startProxy(t, Config{})
	aff := &route.Affinity{CookieName: "route", MaxAge: time.Hour, Path: "/"}
	tp.p.Swap(table(backendOf(eps...), &route.Policy{Affinity: aff}))
	c := tp.client(t, false)
	first := get(t, c, "http://foo.example/")
	cookies := (&http.Response{Header: first.header}).Cookies()
	if len(cookies) != 1 || cookies[0].Name != "route" || cookies[0].MaxAge != 3600 || cookies[0].Path != "/" {
		t.Fatalf("Set-Cookie %q", first.header.Values("Set-Cookie"))
	}
	if strings.Contains(cookies[0].Value, "127.0.0.1") {
		t.Fatalf("cookie leaks the endpoint address: %q", cookies[0].Value)
	}
	for range 10 {
		req, _ := http.NewRequest(http.MethodGet, "http://foo.example/", nil)
		req.AddCookie(&http.Cookie{Name: "route", Value: cookies[0].Value})
		r := do(t, c, req)
		if r.backend != first.backend {
			t.Fatalf("sticky request went to %q, want %q", r.backend, first.backend)
		}
		if r.header.Get("Set-Cookie") != "" {
			t.Fatalf("cookie set again: %q", r.header.Get("Set-Cookie"))
		}
	}
	req, _ := http.NewRequest(http.MethodGet, "http://foo.example/", nil)
	req.AddCookie(&http.Cookie{Name: "route", Value: "gone"})
	if r := do(t, c, req); r.header.Get("Set-Cookie") == "" {
		t.Fatal("a stale cookie got no new cookie")
	}
}

func TestRateLimit(t *testing.T) {
	tp := startProxy(t, Config{})
	tp.p.Swap(table(backendOf(backend(t, "a", nil)), &route.Policy{LimitRPS: 1}))
	c := tp.client(t, false)
	codes := map[int]int{}
	for range 20 {
		codes[get(t, c, "http://foo.example/").code]++
	}
	if codes[http.StatusOK] < 5 || codes[http.StatusTooManyRequests] == 0 {
		t.Fatalf("codes %v, want a burst of 5 OK then 429", codes)
	}
}

func TestAllowList(t *testing.T) {
	ep := backend(t, "a", nil)
	for _, tc := range []struct {
		name string
		pol  route.Policy
		want int
	}{
		{"other network", route.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, http.StatusForbidden},
		{"loopback allowed", route.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.0/8")}}, http.StatusOK},
		{"deny all", route.Policy{DenyAll: true}, http.StatusForbidden},
		{"no list", route.Policy{}, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp := startProxy(t, Config{})
			tp.p.Swap(table(backendOf(ep), &tc.pol))
			if r := get(t, tp.client(t, false), "http://foo.example/"); r.code != tc.want {
				t.Fatalf("got %d, want %d", r.code, tc.want)
			}
		})
	}
}

func TestSSLRedirect(t *testing.T) {
	tp := startProxy(t, Config{})
	tp.p.Swap(table(backendOf(backend(t, "a", nil)), &route.Policy{SSLRedirect: true}))
	c := tp.client(t, false)
	r := get(t, c, "http://Foo.example:8080/a/b?x=1&y=2")
	if r.code != http.StatusPermanentRedirect || r.header.Get("Location") != "https://foo.example/a/b?x=1&y=2" {
		t.Fatalf("got %d Location %q", r.code, r.header.Get("Location"))
	}
	if r := get(t, c, "https://foo.example/a"); r.code != http.StatusOK {
		t.Fatalf("over TLS: got %d, want 200", r.code)
	}
}

func TestCORS(t *testing.T) {
	tp := startProxy(t, Config{})
	cors := &route.CORS{AllowOrigins: []string{"https://app.example"}, AllowMethods: "GET, POST",
		AllowHeaders: "X-Token", AllowCredentials: true, MaxAge: time.Hour, ExposeHeaders: "X-Backend"}
	tp.p.Swap(table(backendOf(backend(t, "a", nil)), &route.Policy{CORS: cors}))
	c := tp.client(t, false)
	req, _ := http.NewRequest(http.MethodOptions, "http://foo.example/", nil)
	req.Header.Set("Origin", "https://app.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	r := do(t, c, req)
	want := map[string]string{
		"Access-Control-Allow-Origin":      "https://app.example",
		"Access-Control-Allow-Methods":     "GET, POST",
		"Access-Control-Allow-Headers":     "X-Token",
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Max-Age":           "3600",
	}
	if r.code != http.StatusNoContent || r.backend != "" {
		t.Fatalf("preflight: got %d from %q, want 204 from the proxy", r.code, r.backend)
	}
	for k, v := range want {
		if got := r.header.Get(k); got != v {
			t.Errorf("preflight %s: got %q, want %q", k, got, v)
		}
	}
	req, _ = http.NewRequest(http.MethodGet, "http://foo.example/", nil)
	req.Header.Set("Origin", "https://app.example")
	r = do(t, c, req)
	if r.backend != "a" || r.header.Get("Access-Control-Allow-Origin") != "https://app.example" ||
		r.header.Get("Access-Control-Expose-Headers") != "X-Backend" {
		t.Errorf("simple request: backend %q headers %v", r.backend, r.header)
	}
	req.Header.Set("Origin", "https://evil.example")
	if r = do(t, c, req); r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("other origin allowed: %q", r.header.Get("Access-Control-Allow-Origin"))
	}
}

func TestRewriteCaptureGroups(t *testing.T) {
	ep := backend(t, "a", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.URL.RequestURI())
	})
	tp := startProxy(t, Config{})
	tp.p.Swap(&fakeTable{routes: []*route.Route{{
		Path: "/api", PathType: route.Regex, Backend: backendOf(ep),
		Pattern: regexp.MustCompile(`(?i)^/api(/|$)(.*)`),
		Policy:  &route.Policy{RewriteTarget: "/v2/$2"},
	}}})
	if r := get(t, tp.client(t, false), "http://foo.example/api/users/7?x=1"); r.body != "/v2/users/7?x=1" {
		t.Fatalf("backend saw %q, want /v2/users/7?x=1", r.body)
	}
}

func TestForwardedHeaders(t *testing.T) {
	seen := make(chan *http.Request, 4)
	ep := backend(t, "a", func(w http.ResponseWriter, r *http.Request) { seen <- r })
	tp := startProxy(t, Config{})
	tp.p.Swap(table(backendOf(ep), &route.Policy{}))
	c := tp.client(t, false)
	req, _ := http.NewRequest(http.MethodGet, "http://Foo.example:8080/x", nil)
	req.Header.Set("X-Forwarded-For", "192.0.2.1")
	req.Header.Set("Connection", "X-Hop")
	req.Header.Set("X-Hop", "secret")
	r := do(t, c, req)
	up := <-seen
	_, port, _ := net.SplitHostPort(tp.httpAddr)
	for k, v := range map[string]string{
		"X-Forwarded-For":   "192.0.2.1, 127.0.0.1",
		"X-Forwarded-Proto": "http",
		"X-Forwarded-Host":  "Foo.example:8080",
		"X-Forwarded-Port":  port,
		"X-Real-Ip":         "127.0.0.1",
		"X-Hop":             "",
	} {
		if got := up.Header.Get(k); got != v {
			t.Errorf("upstream %s: got %q, want %q", k, got, v)
		}
	}
	if up.Host != "Foo.example:8080" {
		t.Errorf("upstream Host %q", up.Host)
	}
	id := up.Header.Get("X-Request-Id")
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) || r.header.Get("X-Request-Id") != id {
		t.Errorf("request id upstream %q, response %q", id, r.header.Values("X-Request-Id"))
	}
	req.Header.Set("X-Request-Id", "client-id-1")
	r = do(t, c, req)
	if up := <-seen; up.Header.Get("X-Request-Id") != "client-id-1" || r.header.Get("X-Request-Id") != "client-id-1" {
		t.Errorf("client request id not kept: %q / %q", up.Header.Get("X-Request-Id"), r.header.Get("X-Request-Id"))
	}
}

func TestSwapDuringRequest(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	old := backend(t, "old", func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "old")
	})
	next := backend(t, "new", nil)
	tp := startProxy(t, Config{})
	tp.p.Swap(table(backendOf(old), &route.Policy{}))
	c := tp.client(t, false)
	done := make(chan result, 1)
	go func() {
		resp, err := c.Get("http://foo.example/")
		if err != nil {
			done <- result{}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		done <- result{code: resp.StatusCode, backend: resp.Header.Get("X-Backend"), body: string(b)}
	}()
	<-entered
	tp.p.Swap(table(backendOf(next), &route.Policy{}))
	close(release)
	if r := <-done; r.code != http.StatusOK || r.backend != "old" {
		t.Fatalf("in-flight request: %d from %q, want 200 from old", r.code, r.backend)
	}
	if r := get(t, c, "http://foo.example/"); r.backend != "new" {
		t.Fatalf("after Swap: from %q, want new", r.backend)
	}
}

func TestShutdownDrains(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	ep := backend(t, "a", func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "done")
	})
	tp := startProxy(t, Config{ShutdownTimeout: 10 * time.Second})
	tp.p.Swap(table(backendOf(ep), &route.Policy{}))
	c := tp.client(t, false)
	done := make(chan result, 1)
	go func() {
		resp, err := c.Get("http://foo.example/")
		if err != nil {
			done <- result{body: err.Error()}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		done <- result{code: resp.StatusCode, body: string(b)}
	}()
	<-entered
	stopped := make(chan error, 1)
	go func() { stopped <- tp.stop() }()
	// Wait until the listener is closed: shutdown has begun.
	for {
		conn, err := net.Dial("tcp", tp.httpAddr)
		if err != nil {
			break
		}
		conn.Close()
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	if r := <-done; r.code != http.StatusOK || r.body != "done" {
		t.Fatalf("in-flight request: %d %q", r.code, r.body)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}
