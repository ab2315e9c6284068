package registry

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"rudder/controlplane/storage"
)

// maxCASAttempts bounds the compare-and-swap retries of one allocation.
const maxCASAttempts = 16

// snapshotter is an ipam allocator whose state can be stored.
type snapshotter interface {
	Snapshot() []byte
	Restore([]byte) error
}

// persisted keeps one allocator's state under a storage key. Every change
// is applied to the latest stored state and written back with
// compare-and-swap, so apiservers sharing a store never hand out the same
// value twice. The state last read or written is cached to save a read.
type persisted[A snapshotter] struct {
	store storage.Store
	key   string
	fresh func() A // an empty allocator of the configured range

	mu     sync.Mutex
	cur    A
	rev    int64 // ModRevision cur was read or written at; 0: key absent
	loaded bool
}

// update applies fn to the current state and stores the result. fn may run
// more than once (after a conflict) and must change only the allocator it
// is given; when it fails nothing is stored.
func (p *persisted[A]) update(ctx context.Context, fn func(A) error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for range maxCASAttempts {
		if !p.loaded {
			if err := p.load(ctx); err != nil {
				return err
			}
		}
		if err := fn(p.cur); err != nil {
			p.loaded = false // fn may have changed cur part way
			return err
		}
		err := p.write(ctx, p.cur.Snapshot())
		if err == nil {
			return nil
		}
		p.loaded = false
		if !retryable(err) {
			return err
		}
	}
	return fmt.Errorf("write %s: %d conflicting writes in a row: %w", p.key, maxCASAttempts, storage.ErrConflict)
}

// replace stores a as the whole state, whatever was stored before.
func (p *persisted[A]) replace(ctx context.Context, a A) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.loaded = false
	for range maxCASAttempts {
		kv, err := p.store.Get(ctx, p.key)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			p.rev = 0
		case err != nil:
			return fmt.Errorf("read %s: %w", p.key, err)
		default:
			p.rev = kv.ModRevision
		}
		err = p.write(ctx, a.Snapshot())
		if err == nil {
			p.cur, p.loaded = a, true
			return nil
		}
		if !retryable(err) {
			return err
		}
	}
	return fmt.Errorf("write %s: %d conflicting writes in a row: %w", p.key, maxCASAttempts, storage.ErrConflict)
}

// current returns a copy of the stored state.
func (p *persisted[A]) current(ctx context.Context) (A, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var zero A
	if err := p.load(ctx); err != nil {
		return zero, err
	}
	c := p.fresh()
	if err := c.Restore(p.cur.Snapshot()); err != nil {
		return zero, fmt.Errorf("copy %s: %w", p.key, err)
	}
	return c, nil
}

func (p *persisted[A]) load(ctx context.Context) error {
	a := p.fresh()
	kv, err := p.store.Get(ctx, p.key)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		p.cur, p.rev, p.loaded = a, 0, true
		return nil
	case err != nil:
		return fmt.Errorf("read %s: %w", p.key, err)
	}
	if err := a.Restore(kv.Value); err != nil {
		return fmt.Errorf("load %s (Repair rebuilds it): %w", p.key, err)
	}
	p.cur, p.rev, p.loaded = a, kv.ModRevision, true
	return nil
}

// write stores data if the key is still at p.rev (absent when 0).
func (p *persisted[A]) write(ctx context.Context, data []byte) error {
	var rev int64
	var err error
	if p.rev == 0 {
		rev, err = p.store.Create(ctx, p.key, data)
	} else {
		rev, err = p.store.Update(ctx, p.key, data, p.rev)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", p.key, err)
	}
	p.rev = rev
	return nil
}

// retryable: someone else wrote (or created, or deleted) the key between
// our read and our write.
func retryable(err error) bool {
	return errors.Is(err, storage.ErrConflict) || errors.Is(err, storage.ErrExists) || errors.Is(err, storage.ErrNotFound)
}
