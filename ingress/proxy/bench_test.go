package proxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"rudder/ingress/route"
)

var kib = strings.Repeat("x", 1024)

// benchBackend serves 1 KiB responses on loopback.
func benchBackend(b *testing.B) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, kib)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// runClients sends GETs to url from parallel keep-alive clients.
func runClients(b *testing.B, url string) {
	tr := &http.Transport{MaxIdleConnsPerHost: 1024, DisableCompression: true}
	b.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: tr}
	b.ReportAllocs()
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := c.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || n != 1024 {
				b.Errorf("got %d with %d bytes", resp.StatusCode, n)
				return
			}
		}
	})
}

// BenchmarkProxy measures requests through the proxy: parallel
// keep-alive clients, 1 KiB responses, backend on loopback.
func BenchmarkProxy(b *testing.B) {
	srv := benchBackend(b)
	tp := startProxy(b, Config{})
	tp.p.Swap(table(backendOf(addrPortOf(b, srv)), &route.Policy{}))
	runClients(b, "http://"+tp.httpAddr+"/")
}

// BenchmarkDirect is the same load straight to the backend.
func BenchmarkDirect(b *testing.B) {
	runClients(b, benchBackend(b).URL+"/")
}
