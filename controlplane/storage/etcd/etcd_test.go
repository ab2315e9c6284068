package etcd

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"rudder/controlplane/storage"
	"rudder/controlplane/storage/storagetest"
)

// server is an embedded single-member etcd in a temporary directory, on
// free 127.0.0.1 ports, that can be restarted on the same data.
type server struct {
	dir          string
	client, peer url.URL
	etcd         *embed.Etcd
}

func startServer(t testing.TB) *server {
	t.Helper()
	srv := &server{dir: t.TempDir(), client: freeURL(t), peer: freeURL(t)}
	srv.start(t)
	t.Cleanup(srv.stop)
	return srv
}

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

func (srv *server) start(t testing.TB) {
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

func (srv *server) stop() {
	if srv.etcd != nil {
		srv.etcd.Close()
		srv.etcd = nil
	}
}

func (srv *server) restart(t testing.TB) {
	srv.stop()
	srv.start(t)
}

// quietLogger keeps the client's retry warnings out of test output.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}

func (srv *server) connect(t testing.TB, prefix string) *Store {
	t.Helper()
	s, err := New(Config{Endpoints: []string{srv.client.String()}, Prefix: prefix, Logger: quietLogger()})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// TestConformance runs the suite on one shared server; each store gets its
// own key prefix. Reopen restarts the server.
func TestConformance(t *testing.T) {
	srv := startServer(t)
	n := 0
	open := func(t *testing.T) (storage.Store, storagetest.Reopener) {
		n++
		prefix := fmt.Sprintf("/test%d", n)
		s := srv.connect(t, prefix)
		reopen := func(t *testing.T) storage.Store {
			if err := s.Close(); err != nil {
				t.Fatalf("Close before restart: %v", err)
			}
			srv.restart(t)
			s = srv.connect(t, prefix)
			return s
		}
		return s, reopen
	}
	storagetest.Run(t, open)
}

func TestCompactedRevisionFindsOthersCompaction(t *testing.T) {
	srv := startServer(t)
	a, b := srv.connect(t, "/a"), srv.connect(t, "/b")
	ctx := t.Context()
	var rev int64
	for i := range 40 {
		r, err := a.Create(ctx, fmt.Sprintf("/k/%d", i), nil)
		if err != nil {
			t.Fatal(err)
		}
		if i == 25 {
			rev = r
		}
	}
	if got, err := b.CompactedRevision(ctx); err != nil || got != 0 {
		t.Fatalf("CompactedRevision before any compaction = %d, %v", got, err)
	}
	if err := a.Compact(ctx, rev); err != nil {
		t.Fatal(err)
	}
	for range 2 { // found by search, then known
		if got, err := b.CompactedRevision(ctx); err != nil || got != rev {
			t.Fatalf("CompactedRevision seen by another client = %d, %v; want %d", got, err, rev)
		}
	}
}

func TestNewFailsWithoutServer(t *testing.T) {
	u := freeURL(t)
	_, err := New(Config{Endpoints: []string{u.String()}, DialTimeout: 500 * time.Millisecond, Logger: quietLogger()})
	if err == nil {
		t.Fatal("New succeeded with no server listening")
	}
}

// BenchmarkCreateParallel measures creates per second from 8 clients
// against an embedded single-member etcd (fsync'd WAL).
func BenchmarkCreateParallel(b *testing.B) {
	srv := startServer(b)
	storagetest.BenchmarkCreates(b, srv.connect(b, "/rudder"), 8)
}
