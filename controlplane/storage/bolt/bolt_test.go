package bolt

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.etcd.io/bbolt"

	"rudder/controlplane/storage"
	"rudder/controlplane/storage/storagetest"
)

func mustOpen(t testing.TB, cfg Config) *Store {
	t.Helper()
	s, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// openForSuite opens a fresh file; reopen closes it and opens it again.
func openForSuite(t *testing.T) (storage.Store, storagetest.Reopener) {
	cfg := Config{Path: filepath.Join(t.TempDir(), "rudder.db")}
	s := mustOpen(t, cfg)
	reopen := func(t *testing.T) storage.Store {
		if err := s.Close(); err != nil {
			t.Fatalf("Close before reopening: %v", err)
		}
		s = mustOpen(t, cfg)
		return s
	}
	return s, reopen
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, openForSuite)
}

func logEntries(t *testing.T, s *Store) int {
	t.Helper()
	n := 0
	err := s.db.View(func(tx *bbolt.Tx) error {
		n = bucketsOf(tx).log.Stats().KeyN
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAutoCompaction(t *testing.T) {
	s := mustOpen(t, Config{Path: filepath.Join(t.TempDir(), "db"), HistoryLimit: 20})
	ctx := t.Context()
	for i := range 100 {
		if _, err := s.Create(ctx, fmt.Sprintf("/k/%d", i), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	rev, _ := s.Revision(ctx)
	deadline := time.Now().Add(10 * time.Second)
	for s.compacted.Load() < rev-22 || logEntries(t, s) > 22 {
		if time.Now().After(deadline) {
			t.Fatalf("compacted at %d with %d log entries; want about %d and 20", s.compacted.Load(), logEntries(t, s), rev-20)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := s.Watch(ctx, "/k/", 1); !errors.Is(err, storage.ErrCompacted) {
		t.Errorf("Watch from 1 after auto compaction: %v, want ErrCompacted", err)
	}
	if res, err := s.List(ctx, "/k/", storage.ListOptions{}); err != nil || len(res.Items) != 100 {
		t.Errorf("List after auto compaction: %v items, %v", len(res.Items), err)
	}
}

func TestWatcherFallsBehindCompaction(t *testing.T) {
	s := mustOpen(t, Config{Path: filepath.Join(t.TempDir(), "db"), HistoryLimit: -1})
	ctx := t.Context()
	ch, err := s.Watch(ctx, "/k/", 0)
	if err != nil {
		t.Fatal(err)
	}
	n := watchBuffer + watchChunk + 200
	for i := range n {
		if _, err := s.Create(ctx, fmt.Sprintf("/k/%04d", i), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	rev, _ := s.Revision(ctx)
	if err := s.Compact(ctx, rev); err != nil {
		t.Fatal(err)
	}
	got := 0
	for ev := range ch {
		if ev.Type == storage.EventError {
			if !errors.Is(ev.Err, storage.ErrCompacted) {
				t.Fatalf("error event %v, want ErrCompacted", ev.Err)
			}
			if _, open := <-ch; open {
				t.Fatal("channel still open after the error event")
			}
			return
		}
		got++
	}
	t.Fatalf("watch closed after %d of %d events without ErrCompacted", got, n)
}

func TestCloseEndsWatchesAndWrites(t *testing.T) {
	s, err := Open(Config{Path: filepath.Join(t.TempDir(), "db")})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := s.Watch(t.Context(), "/", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-ch; ok {
		t.Error("watch channel open after Close")
	}
	if _, err := s.Create(t.Context(), "/k", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Create after Close: %v, want ErrClosed", err)
	}
	if _, err := s.Watch(t.Context(), "/", 0); !errors.Is(err, ErrClosed) {
		t.Errorf("Watch after Close: %v, want ErrClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestMetricsRegisterAndUnregister(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfg := Config{Path: filepath.Join(t.TempDir(), "db"), Registerer: reg}
	s := mustOpen(t, cfg)
	if _, err := s.Create(t.Context(), "/k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, f := range families {
		found[f.GetName()] = true
	}
	if !found["rudder_storage_bolt_commit_writes"] || !found["rudder_storage_bolt_commit_duration_seconds"] {
		t.Errorf("metrics %v lack the commit metrics", found)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	mustOpen(t, cfg) // the same registry takes the metrics again
}

// BenchmarkCreateParallel measures durable creates per second from 8
// concurrent clients (group commit at work).
func BenchmarkCreateParallel(b *testing.B) {
	s := mustOpen(b, Config{Path: filepath.Join(b.TempDir(), "db")})
	storagetest.BenchmarkCreates(b, s, 8)
}
