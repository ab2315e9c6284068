// Package storagetest is the conformance suite every storage.Store backend
// passes. A backend's test calls Run with a function that opens stores.
package storagetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"rudder/controlplane/storage"
)

// Opener opens a store for one test: empty as far as the test can see (it
// may share a server, and so a revision counter, with other stores, but not
// their keys). The opener closes the store in t.Cleanup.
//
// Reopen closes that store and opens the same data again, as a restart of
// the process (and of the server, for a backend that has one) would; it
// returns the new store, which it also closes in t.Cleanup.
type Opener func(t *testing.T) (s storage.Store, reopen Reopener)

// Reopener restarts a store; see Opener.
type Reopener func(t *testing.T) storage.Store

// timeout bounds every wait in the suite.
const timeout = 20 * time.Second

// Run runs the suite. Subtests run one after another: some compact or
// restart the backend, which stores sharing a server would notice.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Opener)
	}{
		{"WriteErrors", testWriteErrors},
		{"Lifecycle", testLifecycle},
		{"RevisionMonotonic", testRevisionMonotonic},
		{"List", testList},
		{"ListAtRevision", testListAtRevision},
		{"WatchFromNow", testWatchFromNow},
		{"WatchFromPast", testWatchFromPast},
		{"WatchPrefixIsolation", testWatchPrefixIsolation},
		{"WatchCancel", testWatchCancel},
		{"WatchResumeAfterRestart", testWatchResumeAfterRestart},
		{"Compaction", testCompaction},
		{"ConcurrentWriters", testConcurrentWriters},
		{"OptimisticConcurrency", testOptimisticConcurrency},
		{"SlowWatcher", testSlowWatcher},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// openStore opens a store for a test that does not restart it.
func openStore(t *testing.T, open Opener) storage.Store {
	t.Helper()
	s, _ := open(t)
	return s
}

// testContext ends with the test or after the suite's timeout.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	t.Cleanup(cancel)
	return ctx
}

func mustCreate(t *testing.T, s storage.Store, key, value string) int64 {
	t.Helper()
	rev, err := s.Create(testContext(t), key, []byte(value))
	if err != nil {
		t.Fatalf("Create(%s): %v", key, err)
	}
	return rev
}

func mustUpdate(t *testing.T, s storage.Store, key, value string, expected int64) int64 {
	t.Helper()
	rev, err := s.Update(testContext(t), key, []byte(value), expected)
	if err != nil {
		t.Fatalf("Update(%s, %d): %v", key, expected, err)
	}
	return rev
}

func mustDelete(t *testing.T, s storage.Store, key string, expected int64) (int64, *storage.KeyValue) {
	t.Helper()
	rev, kv, err := s.Delete(testContext(t), key, expected)
	if err != nil {
		t.Fatalf("Delete(%s, %d): %v", key, expected, err)
	}
	return rev, kv
}

func mustRevision(t *testing.T, s storage.Store) int64 {
	t.Helper()
	rev, err := s.Revision(testContext(t))
	if err != nil {
		t.Fatalf("Revision: %v", err)
	}
	return rev
}

func mustWatch(t *testing.T, ctx context.Context, s storage.Store, prefix string, from int64) <-chan storage.Event {
	t.Helper()
	ch, err := s.Watch(ctx, prefix, from)
	if err != nil {
		t.Fatalf("Watch(%s, %d): %v", prefix, from, err)
	}
	return ch
}

func mustList(t *testing.T, s storage.Store, prefix string, opts storage.ListOptions) *storage.ListResult {
	t.Helper()
	res, err := s.List(testContext(t), prefix, opts)
	if err != nil {
		t.Fatalf("List(%s, %+v): %v", prefix, opts, err)
	}
	return res
}

// wantErr fails unless err is target (per errors.Is).
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v, want %v", what, err, target)
	}
}

// kvString is a compact form of a KeyValue for comparisons.
func kvString(kv storage.KeyValue) string {
	return fmt.Sprintf("%s=%s@%d/%d", kv.Key, kv.Value, kv.CreateRevision, kv.ModRevision)
}
