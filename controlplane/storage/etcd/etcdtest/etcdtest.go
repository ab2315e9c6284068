// Package etcdtest runs an embedded single-member etcd for tests and
// benchmarks: in a temporary directory, on free 127.0.0.1 ports, stopped in
// Cleanup, and restartable on the same data.
package etcdtest

import (
	"net"
	"net/url"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Server is one embedded etcd.
type Server struct {
	dir          string
	client, peer url.URL
	etcd         *embed.Etcd
}

// Start runs an etcd until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	srv := &Server{dir: t.TempDir(), client: freeURL(t), peer: freeURL(t)}
	srv.start(t)
	t.Cleanup(srv.Stop)
	return srv
}

// ClientURL is where clients connect.
func (srv *Server) ClientURL() string { return srv.client.String() }

// freeURL returns http://127.0.0.1:PORT for a port free right now.
func freeURL(t testing.TB) url.URL {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return url.URL{Scheme: "http", Host: l.Addr().String()}
}

func (srv *Server) start(t testing.TB) {
	t.Helper()
	cfg := embed.NewConfig()
	cfg.Name = "test"
	cfg.Dir = srv.dir
	cfg.ListenClientUrls = []url.URL{srv.client}
	cfg.AdvertiseClientUrls = []url.URL{srv.client}
	cfg.ListenPeerUrls = []url.URL{srv.peer}
	cfg.AdvertisePeerUrls = []url.URL{srv.peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatalf("start etcd: %v", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(30 * time.Second):
		e.Close()
		t.Fatal("etcd not ready after 30s")
	}
	srv.etcd = e
}

// Stop stops etcd (idempotent).
func (srv *Server) Stop() {
	if srv.etcd != nil {
		srv.etcd.Close()
		srv.etcd = nil
	}
}

// Restart stops etcd and starts it again on the same data and ports.
func (srv *Server) Restart(t testing.TB) {
	srv.Stop()
	srv.start(t)
}
