// Package storage defines the revisioned key-value store under the apiserver.
//
// Every write gets the next value of one store-wide revision counter; that
// revision is the resourceVersion the apiserver reports. Watches resume from a
// revision and fail with ErrCompacted once that part of the history is gone,
// which the apiserver turns into 410 Gone, as upstream does over etcd.
package storage

import (
	"context"
	"errors"
)

// Errors every backend returns (wrapped or not; test with errors.Is).
var (
	ErrNotFound  = errors.New("key not found")
	ErrExists    = errors.New("key already exists")
	ErrConflict  = errors.New("revision conflict")
	ErrCompacted = errors.New("revision compacted")
	ErrFuture    = errors.New("revision not yet reached")
)

// KeyValue is one stored value with its revisions.
type KeyValue struct {
	Key            string
	Value          []byte
	CreateRevision int64
	ModRevision    int64
}

// EventType says what happened to a key.
type EventType int

// Event types.
const (
	EventPut    EventType = iota + 1 // created or updated
	EventDelete                      // deleted
	EventError                       // the watch ended with Err
)

// Event is one change seen by a watch.
//
// For EventPut, KV is the new value; PrevValue is the value before (nil on
// create, which is also when KV.CreateRevision == KV.ModRevision).
// For EventDelete, KV.Value is the last value the key held and
// KV.ModRevision is the revision of the delete; PrevValue equals KV.Value.
// For EventError, Err says why the watch ended (ErrCompacted when the
// watcher fell behind compaction); the channel is closed right after.
type Event struct {
	Type      EventType
	KV        KeyValue
	PrevValue []byte
	Err       error
}

// ListOptions narrows a List.
type ListOptions struct {
	// Revision, if non-zero, lists the store as it was at that revision
	// (ErrCompacted if older than the compacted revision, ErrFuture if newer
	// than the current one). Zero lists the current state.
	Revision int64
	// StartKey, if set, lists only keys strictly greater than it (used for
	// continue tokens).
	StartKey string
	// Limit, if positive, caps the number of items returned.
	Limit int64
}

// ListResult is what List returns.
type ListResult struct {
	Items []KeyValue // sorted by key
	// Revision is the revision the list reflects.
	Revision int64
	// More is true when Limit cut the list short; Remaining counts the
	// items left out.
	More      bool
	Remaining int64
}

// Store is the revisioned key-value store. Keys are '/'-separated paths;
// a prefix given to List and Watch ends with '/' to select a subtree.
// All methods are safe for concurrent use. A write returns only after it
// is durable; if its ctx ends first, the write may or may not be applied.
// Keys start with '/' (see CheckKey). As in etcd, an empty store is at
// revision 1, so a watch from revision 1 sees every write not compacted.
type Store interface {
	// Get returns the current value of key or ErrNotFound.
	Get(ctx context.Context, key string) (*KeyValue, error)
	// List returns the keys under prefix, in key order.
	List(ctx context.Context, prefix string, opts ListOptions) (*ListResult, error)
	// Create stores a new key and returns its revision; ErrExists if present.
	Create(ctx context.Context, key string, value []byte) (int64, error)
	// Update replaces the value of key if its ModRevision equals expected
	// (ErrConflict otherwise, ErrNotFound if absent) and returns the new
	// revision. expected == 0 updates unconditionally.
	Update(ctx context.Context, key string, value []byte, expected int64) (int64, error)
	// Delete removes key if its ModRevision equals expected (0: any) and
	// returns the revision of the delete and the value removed.
	Delete(ctx context.Context, key string, expected int64) (int64, *KeyValue, error)
	// Watch streams every change under prefix with a revision greater than
	// fromRevision, in revision order, until ctx ends. fromRevision == 0
	// means "from now". ErrCompacted if fromRevision is below the compacted
	// revision. A watcher that is slow never blocks writers. A
	// fromRevision above the current revision is allowed: the watch waits.
	// The channel closes without an EventError when ctx ends or the store
	// is closed.
	Watch(ctx context.Context, prefix string, fromRevision int64) (<-chan Event, error)
	// Revision returns the current revision (of the last write).
	Revision(ctx context.Context) (int64, error)
	// Compact discards history at and below rev; later reads of that
	// history get ErrCompacted. Like etcd, it returns ErrCompacted if rev
	// is not above the compacted revision (a compactor can ignore that)
	// and ErrFuture if rev is above the current revision.
	Compact(ctx context.Context, rev int64) error
	// CompactedRevision returns the revision of the last compaction (0: none).
	CompactedRevision(ctx context.Context) (int64, error)
	// Close releases the store.
	Close() error
}
