package bolt

import (
	"context"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"rudder/controlplane/storage"
)

// maxBatch caps the writes committed in one transaction.
const maxBatch = 1000

type opKind int

const (
	opCreate opKind = iota
	opUpdate
	opDelete
)

func (o opKind) String() string {
	return [...]string{"create", "update", "delete"}[o]
}

// writeReq is one write waiting for the writer goroutine.
type writeReq struct {
	op       opKind
	key      string
	value    []byte
	expected int64
	done     chan writeResult // buffered: the writer never blocks on it
}

// writeResult is the outcome of one write. err is a storage sentinel
// (ErrExists, ErrNotFound, ErrConflict) or a commit failure.
type writeResult struct {
	rev     int64
	removed *storage.KeyValue
	err     error
}

// Create stores a new key.
func (s *Store) Create(ctx context.Context, key string, value []byte) (int64, error) {
	res := s.write(ctx, &writeReq{op: opCreate, key: key, value: value})
	if res.err != nil {
		return 0, fmt.Errorf("create %s: %w", key, res.err)
	}
	return res.rev, nil
}

// Update replaces the value of key if its ModRevision is expected (0: any).
func (s *Store) Update(ctx context.Context, key string, value []byte, expected int64) (int64, error) {
	res := s.write(ctx, &writeReq{op: opUpdate, key: key, value: value, expected: expected})
	if res.err != nil {
		return 0, fmt.Errorf("update %s at revision %d: %w", key, expected, res.err)
	}
	return res.rev, nil
}

// Delete removes key if its ModRevision is expected (0: any).
func (s *Store) Delete(ctx context.Context, key string, expected int64) (int64, *storage.KeyValue, error) {
	res := s.write(ctx, &writeReq{op: opDelete, key: key, expected: expected})
	if res.err != nil {
		return 0, nil, fmt.Errorf("delete %s at revision %d: %w", key, expected, res.err)
	}
	return res.rev, res.removed, nil
}

// write hands r to the writer and waits for its commit. If ctx ends after
// the hand-off, the write may still be applied.
func (s *Store) write(ctx context.Context, r *writeReq) writeResult {
	if err := storage.CheckKey(r.key); err != nil {
		return writeResult{err: err}
	}
	if len(r.key) > bbolt.MaxKeySize {
		return writeResult{err: fmt.Errorf("%w: longer than %d bytes", storage.ErrInvalidKey, bbolt.MaxKeySize)}
	}
	r.done = make(chan writeResult, 1)
	select {
	case s.reqs <- r:
	case <-s.done:
		return writeResult{err: ErrClosed}
	case <-ctx.Done():
		return writeResult{err: ctx.Err()}
	}
	select {
	case res := <-r.done:
		return res
	case <-ctx.Done():
		return writeResult{err: fmt.Errorf("%w (the write may still be applied)", ctx.Err())}
	}
}

// runWriter commits requests in batches until Close.
func (s *Store) runWriter() {
	defer s.wg.Done()
	for {
		select {
		case r := <-s.reqs:
			s.commit(s.gather(r))
		case <-s.done:
			return
		}
	}
}

// gather adds to first every request already waiting.
func (s *Store) gather(first *writeReq) []*writeReq {
	batch := []*writeReq{first}
	for len(batch) < maxBatch {
		select {
		case r := <-s.reqs:
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// commit applies batch in one transaction and answers every request after
// the fsync. If the transaction fails, each request is retried alone so
// that one bad write cannot fail the others.
func (s *Store) commit(batch []*writeReq) {
	start := time.Now()
	results := make([]writeResult, len(batch))
	var rev int64
	err := s.db.Update(func(tx *bbolt.Tx) error {
		var err error
		rev, err = applyBatch(bucketsOf(tx), batch, results)
		return err
	})
	if err != nil && len(batch) > 1 {
		s.log.Warn("bolt batch commit failed, retrying writes one by one", "writes", len(batch), "err", err)
		for _, r := range batch {
			s.commit([]*writeReq{r})
		}
		return
	}
	if err != nil {
		s.log.Error("bolt commit failed", "op", batch[0].op.String(), "key", batch[0].key, "err", err)
		batch[0].done <- writeResult{err: fmt.Errorf("commit: %w", err)}
		return
	}
	s.metrics.observeCommit(time.Since(start), len(batch))
	if rev > s.rev.Load() {
		s.rev.Store(rev)
		s.broadcast()
		s.maybeCompact(rev)
	}
	for i, r := range batch {
		r.done <- results[i]
	}
}

// applyBatch applies the writes in order, each at the next revision, and
// returns the revision after the last one. Refused writes (conflicts and
// the like) are results, not errors; an error aborts the transaction.
func applyBatch(b buckets, batch []*writeReq, results []writeResult) (int64, error) {
	b.log.FillPercent = 1 // keys are appended in order
	start := b.revision()
	rev := start
	for i, r := range batch {
		res, err := apply(b, r, rev+1)
		if err != nil {
			return 0, fmt.Errorf("%s %s: %w", r.op, r.key, err)
		}
		if res.err == nil {
			rev = res.rev
		}
		results[i] = res
	}
	if rev == start {
		return rev, nil
	}
	return rev, b.setRevision(rev)
}

// apply performs one write at revision rev.
func apply(b buckets, r *writeReq, rev int64) (writeResult, error) {
	var old *storage.KeyValue
	if v := b.current.Get([]byte(r.key)); v != nil {
		var err error
		if old, err = decodeRecord(r.key, v); err != nil {
			return writeResult{}, err
		}
	}
	if res, refused := check(r, old); refused {
		return res, nil
	}
	ev := event{typ: storage.EventPut, key: r.key, value: r.value, createRev: rev}
	if old != nil {
		ev.createRev, ev.prevModRev = old.CreateRevision, old.ModRevision
		ev.prev, ev.hasPrev = old.Value, true
	}
	if r.op == opDelete {
		ev = event{typ: storage.EventDelete, key: r.key, value: old.Value, createRev: old.CreateRevision, prevModRev: old.ModRevision}
		if err := b.current.Delete([]byte(r.key)); err != nil {
			return writeResult{}, err
		}
	} else if err := b.current.Put([]byte(r.key), encodeRecord(ev.createRev, rev, r.value)); err != nil {
		return writeResult{}, err
	}
	if err := b.log.Put(revKey(rev), ev.encode()); err != nil {
		return writeResult{}, err
	}
	if r.op != opDelete {
		old = nil
	}
	return writeResult{rev: rev, removed: old}, nil
}

// check refuses a write that does not fit the key's current state.
func check(r *writeReq, old *storage.KeyValue) (writeResult, bool) {
	switch {
	case r.op == opCreate && old != nil:
		return writeResult{err: storage.ErrExists}, true
	case r.op != opCreate && old == nil:
		return writeResult{err: storage.ErrNotFound}, true
	case r.op != opCreate && r.expected != 0 && r.expected != old.ModRevision:
		return writeResult{err: fmt.Errorf("%w: key is at revision %d", storage.ErrConflict, old.ModRevision)}, true
	}
	return writeResult{}, false
}
