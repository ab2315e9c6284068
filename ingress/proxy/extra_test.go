package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	dto "github.com/prometheus/client_model/go"

	"rudder/dns/dnstest"
	"rudder/ingress/route"
)

func TestTrailersPass(t *testing.T) {
	ep := backend(t, "t", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Checksum")
		io.WriteString(w, "body")
		w.Header().Set("X-Checksum", "abc")
	})
	tp := startProxy(t, Config{})
	tp.p.Swap(table(backendOf(ep), &route.Policy{}))
	for _, h2 := range []bool{false, true} {
		resp, err := tp.client(t, h2).Get("https://foo.example/")
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := resp.Trailer.Get("X-Checksum"); got != "abc" {
			t.Errorf("%s: trailer %q, want abc", resp.Proto, got)
		}
	}
}

func TestHTTPSBackendGetsSNI(t *testing.T) {
	var mu sync.Mutex
	var sni string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sni = r.TLS.ServerName
		mu.Unlock()
		io.WriteString(w, "secure")
	}))
	t.Cleanup(srv.Close)
	tp := startProxy(t, Config{})
	tp.p.Swap(table(backendOf(addrPortOf(t, srv)), &route.Policy{Protocol: route.HTTPS}))
	r := get(t, tp.client(t, false), "http://secure.example/")
	mu.Lock()
	defer mu.Unlock()
	if r.code != http.StatusOK || r.body != "secure" || sni != "secure.example" {
		t.Fatalf("got %d %q, backend SNI %q", r.code, r.body, sni)
	}
}

// TestExternalName: an ExternalName backend's name is resolved through
// DNS (the configured resolver, here a test server that is the only one
// to know the name) when the proxy connects.
func TestExternalName(t *testing.T) {
	ep := backend(t, "ext", nil)
	var queries atomic.Int32
	dnsAddr := dnsServer(t, &queries, map[string]net.IP{"backend.rudder.test.": net.IPv4(127, 0, 0, 1)})
	res := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", dnsAddr)
	}}
	tp := startProxy(t, Config{Resolver: res})
	tp.p.Swap(table(&route.Backend{Key: "ns/ext:80", ExternalName: "backend.rudder.test", ExternalPort: ep.Port()}, &route.Policy{}))
	if r := get(t, tp.client(t, false), "http://foo.example/"); r.code != http.StatusOK || r.backend != "ext" {
		t.Fatalf("got %d from %q", r.code, r.backend)
	}
	if queries.Load() == 0 {
		t.Error("the name was not looked up in DNS")
	}
}

// dnsServer answers A queries for names over UDP on loopback (NXDOMAIN
// for other names), counting queries; it returns its address.
func dnsServer(t *testing.T, queries *atomic.Int32, names map[string]net.IP) string {
	t.Helper()
	return dnstest.ServeUDP(t, dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		queries.Add(1)
		m := new(dns.Msg)
		m.SetReply(q)
		for _, qq := range q.Question {
			ip, ok := names[qq.Name]
			switch {
			case !ok:
				m.Rcode = dns.RcodeNameError
			case qq.Qtype == dns.TypeA:
				m.Answer = append(m.Answer, &dns.A{A: ip,
					Hdr: dns.RR_Header{Name: qq.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 5}})
			}
		}
		w.WriteMsg(m)
	}))
}

func TestSlowClientBody(t *testing.T) {
	ep := backend(t, "a", func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			return
		}
		io.WriteString(w, "ok")
	})
	tp := startProxy(t, Config{ClientBodyTimeout: 100 * time.Millisecond})
	tp.p.Swap(table(backendOf(ep), &route.Policy{}))
	conn, err := net.Dial("tcp", tp.httpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Announce 100 bytes, send 5, then stall.
	io.WriteString(conn, "POST / HTTP/1.1\r\nHost: foo.example\r\nContent-Length: 100\r\n\r\nhello")
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	status, err := bufioLine(conn)
	if err != nil || !strings.Contains(status, " 408 ") {
		t.Fatalf("status line %q, %v; want 408", status, err)
	}
}

func bufioLine(c net.Conn) (string, error) {
	var b []byte
	one := make([]byte, 1)
	for {
		if _, err := c.Read(one); err != nil {
			return string(b), err
		}
		if one[0] == '\n' {
			return string(b), nil
		}
		b = append(b, one[0])
	}
}

func TestMetricsAndAccessLog(t *testing.T) {
	var buf syncBuffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	tp := startProxy(t, Config{Logger: log, AccessLog: true})
	tp.p.Swap(table(backendOf(backend(t, "a", nil)), &route.Policy{}))
	c := tp.client(t, false)
	get(t, c, "http://foo.example/path?q=1")
	get(t, c, "http://foo.example/path")
	m := tp.p.metrics
	if n := counterValue(t, m.requests.WithLabelValues("ns/ing", "ns/svc:http", "200")); n != 2 {
		t.Errorf("requests_total{200}: %v, want 2", n)
	}
	var g dto.Metric
	m.active.Write(&g)
	if g.GetGauge().GetValue() < 1 {
		t.Errorf("active connections %v with a keep-alive connection open", g.GetGauge().GetValue())
	}
	var line map[string]any
	first, _, _ := strings.Cut(buf.String(), "\n")
	if err := json.Unmarshal([]byte(first), &line); err != nil {
		t.Fatalf("access log %q: %v", buf.String(), err)
	}
	for _, k := range []string{"remote", "method", "host", "path", "status", "bytes", "duration", "upstream", "request_id", "ingress", "service"} {
		if _, ok := line[k]; !ok {
			t.Errorf("access log line lacks %q: %v", k, line)
		}
	}
	if line["status"] != float64(200) || line["path"] != "/path" || line["ingress"] != "ns/ing" {
		t.Errorf("access log line %v", line)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestCertificateSwap(t *testing.T) {
	one, two := testCert(t, "one.example"), testCert(t, "two.example")
	tp := startProxy(t, Config{})
	cn := func() string {
		conn, err := tlsDial(tp.httpsAddr, "foo.example")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].Subject.CommonName
	}
	tp.p.Swap(&fakeTable{certs: map[string]*tlsCert{"foo.example": one}})
	if got := cn(); got != "one.example" {
		t.Fatalf("got %q", got)
	}
	tp.p.Swap(&fakeTable{certs: map[string]*tlsCert{"foo.example": two}})
	if got := cn(); got != "two.example" {
		t.Fatalf("after Swap got %q", got)
	}
}
