package bolt

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"

	"rudder/controlplane/storage"
)

// compactChunk caps the log entries one compaction transaction deletes, so
// writers wait at most that long for the file's write lock.
const compactChunk = 10000

// Compact discards the log at and below rev. It returns ErrFuture if rev
// is above the current revision and ErrCompacted if it is not above the
// last compaction, as etcd does.
//
// The compacted revision is recorded first, in its own transaction, so
// reads of that history fail from then on; the entries are then deleted in
// chunks.
func (s *Store) Compact(ctx context.Context, rev int64) error {
	s.compactMu.Lock()
	defer s.compactMu.Unlock()
	if err := s.markCompacted(rev); err != nil {
		return fmt.Errorf("compact to revision %d: %w", rev, err)
	}
	if err := s.dropLog(ctx, rev); err != nil {
		return fmt.Errorf("compact to revision %d: %w", rev, err)
	}
	s.metrics.compactions.Inc()
	return nil
}

func (s *Store) markCompacted(rev int64) error {
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := bucketsOf(tx)
		if cur := b.revision(); rev > cur {
			return fmt.Errorf("%w: store is at revision %d", storage.ErrFuture, cur)
		}
		if c := b.compacted(); rev <= c {
			return fmt.Errorf("%w: store is compacted at revision %d", storage.ErrCompacted, c)
		}
		return b.setCompacted(rev)
	})
	if err == nil {
		s.compacted.Store(rev)
	}
	return err
}

// dropLog deletes log entries at and below rev, a chunk per transaction.
func (s *Store) dropLog(ctx context.Context, rev int64) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.done:
			return ErrClosed
		default:
		}
		keys, err := s.oldEntries(rev)
		if err != nil || len(keys) == 0 {
			return err
		}
		err = s.db.Update(func(tx *bbolt.Tx) error {
			log := bucketsOf(tx).log
			for _, k := range keys {
				if err := log.Delete(k); err != nil {
					return fmt.Errorf("delete log entry %d: %w", decodeRev(k), err)
				}
			}
			return nil
		})
		if err != nil || len(keys) < compactChunk {
			return err
		}
	}
}

// oldEntries returns the keys of up to compactChunk log entries at and
// below rev.
func (s *Store) oldEntries(rev int64) ([][]byte, error) {
	var keys [][]byte
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := bucketsOf(tx).log.Cursor()
		for k, _ := c.First(); k != nil && decodeRev(k) <= rev && len(keys) < compactChunk; k, _ = c.Next() {
			keys = append(keys, append([]byte(nil), k...))
		}
		return nil
	})
	return keys, err
}

// maybeCompact wakes the compactor when the log is well over the limit;
// the slack keeps it from running after every commit.
func (s *Store) maybeCompact(rev int64) {
	if s.historyLimit < 0 {
		return
	}
	slack := max(s.historyLimit/10, 1)
	if rev-s.compacted.Load() <= s.historyLimit+slack {
		return
	}
	select {
	case s.compactCh <- struct{}{}:
	default:
	}
}

// runCompactor keeps the log at HistoryLimit entries until Close.
func (s *Store) runCompactor() {
	defer s.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for {
		select {
		case <-s.compactCh:
		case <-s.done:
			return
		}
		if err := s.autoCompact(ctx); err != nil && !errors.Is(err, ErrClosed) {
			s.log.Error("bolt auto compaction failed", "err", err)
		}
	}
}

func (s *Store) autoCompact(ctx context.Context) error {
	target := s.rev.Load() - s.historyLimit
	if s.historyLimit < 0 || target <= s.compacted.Load() {
		// Nothing new to compact; finish a deletion cut short by a crash.
		s.compactMu.Lock()
		defer s.compactMu.Unlock()
		return s.dropLog(ctx, s.compacted.Load())
	}
	err := s.Compact(ctx, target)
	if errors.Is(err, storage.ErrCompacted) {
		return nil // someone compacted further meanwhile
	}
	return err
}
