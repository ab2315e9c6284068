package proxy

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/prometheus/client_golang/prometheus"

	"rudder/ingress/route"
)

// fakeTable routes by host ("" matches any) and path prefix, first
// match wins; certificates by exact name, then "*." wildcard.
type fakeTable struct {
	routes []*route.Route
	certs  map[string]*tls.Certificate
	def    *tls.Certificate
}

func (f *fakeTable) Match(host, path string) *route.Route {
	for _, r := range f.routes {
		if (r.Host == "" || r.Host == host) && strings.HasPrefix(path, r.Path) {
			return r
		}
	}
	return nil
}

func (f *fakeTable) Certificate(name string) *tls.Certificate {
	if c := f.certs[name]; c != nil {
		return c
	}
	if i := strings.IndexByte(name, '.'); i > 0 {
		return f.certs["*"+name[i:]]
	}
	return nil
}

func (f *fakeTable) DefaultCertificate() *tls.Certificate { return f.def }

// table is a one-route table for any host.
func table(b *route.Backend, pol *route.Policy) *fakeTable {
	return &fakeTable{routes: []*route.Route{{Namespace: "ns", Name: "ing", Path: "/", PathType: route.Prefix, Backend: b, Policy: pol}}}
}

func backendOf(eps ...netip.AddrPort) *route.Backend {
	return &route.Backend{Key: "ns/svc:http", Namespace: "ns", Service: "svc", Port: "http", Endpoints: eps}
}

// backend starts an HTTP server on loopback naming itself in X-Backend;
// h nil answers "ok".
func backend(t *testing.T, name string, h http.HandlerFunc) netip.AddrPort {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Backend", name)
		if h == nil {
			io.WriteString(w, "ok")
			return
		}
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return netip.MustParseAddrPort(srv.Listener.Addr().String())
}

// closedPort is a loopback address nobody listens on.
func closedPort(t *testing.T) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ap := netip.MustParseAddrPort(ln.Addr().String())
	ln.Close()
	return ap
}

type testProxy struct {
	p                   *Proxy
	httpAddr, httpsAddr string
	stop                func() error
}

func startProxy(t testing.TB, cfg Config) *testProxy {
	t.Helper()
	cfg.Registerer = prometheus.NewRegistry()
	if os.Getenv(noWireEnv) != "" {
		cfg.NoWirePath = true
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx, hl, sl) }()
	tp := &testProxy{p: p, httpAddr: hl.Addr().String(), httpsAddr: sl.Addr().String()}
	tp.stop = sync.OnceValue(func() error { cancel(); return <-done })
	t.Cleanup(func() {
		if err := tp.stop(); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return tp
}

// client reaches the proxy whatever the URL's host; https URLs go to the
// TLS listener. It does not follow redirects.
func (tp *testProxy) client(t *testing.T, h2 bool) *http.Client {
	t.Helper()
	d := &net.Dialer{}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if strings.HasSuffix(addr, ":443") {
				return d.DialContext(ctx, network, tp.httpsAddr)
			}
			return d.DialContext(ctx, network, tp.httpAddr)
		},
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true},
		ForceAttemptHTTP2: h2,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       20 * time.Second,
	}
}

type result struct {
	code    int
	body    string
	header  http.Header
	backend string
}

func do(t *testing.T, c *http.Client, req *http.Request) result {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return result{code: resp.StatusCode, body: string(b), header: resp.Header, backend: resp.Header.Get("X-Backend")}
}

func get(t *testing.T, c *http.Client, url string) result {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, c, req)
}

// counterValue reads a counter.
func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// gaugeValue reads a gauge.
func gaugeValue(t *testing.T, g prometheus.Gauge) float64 {
	t.Helper()
	var m dto.Metric
	if err := g.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetGauge().GetValue()
}

// testCert makes a self-signed certificate for names.
func testCert(t *testing.T, names ...string) *tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: names[0]},
		DNSNames:     names,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func addrPortOf(t testing.TB, srv *httptest.Server) netip.AddrPort {
	t.Helper()
	return netip.MustParseAddrPort(srv.Listener.Addr().String())
}

type tlsCert = tls.Certificate

func tlsDial(addr, sni string) (*tls.Conn, error) {
	return tls.Dial("tcp", addr, &tls.Config{ServerName: sni, InsecureSkipVerify: true})
}

// waitUntil polls ok for up to 10 s.
func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}
