// Package registrytest holds test helpers for the registry: an in-memory
// storage.Store with the revision semantics of the real backends (no watch,
// no history).
package registrytest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"rudder/controlplane/storage"
)

// Store is an in-memory storage.Store. BeforeWrite, if set, runs before
// every Create, Update and Delete (outside the lock), so a test can slip in
// a concurrent write and provoke a conflict.
type Store struct {
	BeforeWrite func(key string)

	mu     sync.Mutex
	rev    int64
	kvs    map[string]storage.KeyValue
	writes int
}

var _ storage.Store = (*Store)(nil)

// NewStore returns an empty store.
func NewStore() *Store { return &Store{kvs: map[string]storage.KeyValue{}} }

// Writes returns how many writes succeeded.
func (s *Store) Writes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}

func (s *Store) hook(key string) {
	if s.BeforeWrite != nil {
		s.BeforeWrite(key)
	}
}

// Get implements storage.Store.
func (s *Store) Get(_ context.Context, key string) (*storage.KeyValue, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	kv, ok := s.kvs[key]
	if !ok {
		return nil, fmt.Errorf("get %s: %w", key, storage.ErrNotFound)
	}
	kv.Value = append([]byte(nil), kv.Value...)
	return &kv, nil
}

// List implements storage.Store (current state only).
func (s *Store) List(_ context.Context, prefix string, opts storage.ListOptions) (*storage.ListResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if opts.Revision != 0 && opts.Revision != s.rev {
		return nil, fmt.Errorf("list at %d: %w", opts.Revision, storage.ErrCompacted)
	}
	var keys []string
	for k := range s.kvs {
		if strings.HasPrefix(k, prefix) && k > opts.StartKey {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	res := &storage.ListResult{Revision: s.rev}
	for i, k := range keys {
		if opts.Limit > 0 && int64(i) == opts.Limit {
			res.More, res.Remaining = true, int64(len(keys)-i)
			break
		}
		res.Items = append(res.Items, s.kvs[k])
	}
	return res, nil
}

// Create implements storage.Store.
func (s *Store) Create(_ context.Context, key string, value []byte) (int64, error) {
	s.hook(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.kvs[key]; ok {
		return 0, fmt.Errorf("create %s: %w", key, storage.ErrExists)
	}
	s.rev++
	s.writes++
	s.kvs[key] = storage.KeyValue{Key: key, Value: append([]byte(nil), value...), CreateRevision: s.rev, ModRevision: s.rev}
	return s.rev, nil
}

// Update implements storage.Store.
func (s *Store) Update(_ context.Context, key string, value []byte, expected int64) (int64, error) {
	s.hook(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	kv, ok := s.kvs[key]
	if !ok {
		return 0, fmt.Errorf("update %s: %w", key, storage.ErrNotFound)
	}
	if expected != 0 && kv.ModRevision != expected {
		return 0, fmt.Errorf("update %s at %d, is at %d: %w", key, expected, kv.ModRevision, storage.ErrConflict)
	}
	s.rev++
	s.writes++
	kv.Value, kv.ModRevision = append([]byte(nil), value...), s.rev
	s.kvs[key] = kv
	return s.rev, nil
}

// Delete implements storage.Store.
func (s *Store) Delete(_ context.Context, key string, expected int64) (int64, *storage.KeyValue, error) {
	s.hook(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	kv, ok := s.kvs[key]
	if !ok {
		return 0, nil, fmt.Errorf("delete %s: %w", key, storage.ErrNotFound)
	}
	if expected != 0 && kv.ModRevision != expected {
		return 0, nil, fmt.Errorf("delete %s: %w", key, storage.ErrConflict)
	}
	s.rev++
	s.writes++
	delete(s.kvs, key)
	return s.rev, &kv, nil
}

// Watch is not supported by the fake.
func (s *Store) Watch(context.Context, string, int64) (<-chan storage.Event, error) {
	return nil, errors.New("registrytest: watch not supported")
}

// Revision implements storage.Store.
func (s *Store) Revision(context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rev, nil
}

// Compact does nothing: the fake keeps no history.
func (s *Store) Compact(context.Context, int64) error { return nil }

// CompactedRevision implements storage.Store.
func (s *Store) CompactedRevision(context.Context) (int64, error) { return 0, nil }

// Close implements storage.Store.
func (s *Store) Close() error { return nil }
