package etcd

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"rudder/controlplane/storage"
	"rudder/controlplane/storage/etcd/etcdtest"
	"rudder/controlplane/storage/storagetest"
)

// server wraps the shared embedded etcd of etcdtest.
type server struct{ *etcdtest.Server }

func startServer(t testing.TB) *server { return &server{etcdtest.Start(t)} }

func (srv *server) restart(t testing.TB) { srv.Restart(t) }

// quietLogger keeps the client's retry warnings out of test output.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}

func (srv *server) connect(t testing.TB, prefix string) *Store {
	t.Helper()
	s, err := New(Config{Endpoints: []string{srv.ClientURL()}, Prefix: prefix, Logger: quietLogger()})
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
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "http://" + l.Addr().String()
	l.Close()
	_, err = New(Config{Endpoints: []string{addr}, DialTimeout: 500 * time.Millisecond, Logger: quietLogger()})
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
