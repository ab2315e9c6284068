package etcd

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Compact compacts etcd's history at rev (the whole cluster, not only the
// prefix). etcd answers ErrCompacted if rev is not above its last
// compaction and ErrFuture if rev is above its revision.
func (s *Store) Compact(ctx context.Context, rev int64) error {
	if _, err := s.client.Compact(ctx, rev); err != nil {
		return fmt.Errorf("compact etcd to revision %d: %w", rev, mapErr(err))
	}
	s.noteCompacted(rev)
	return nil
}

// noteCompacted raises the known compaction revision to rev.
func (s *Store) noteCompacted(rev int64) {
	for {
		old := s.compacted.Load()
		if rev <= old || s.compacted.CompareAndSwap(old, rev) {
			return
		}
	}
}

// CompactedRevision returns etcd's compaction revision, which its API does
// not report directly. A read at revision r fails with ErrCompacted exactly
// when r is below it, so it is the lowest readable revision; this searches
// for it between the highest compaction known (by this Store, or found
// before) and the current revision. The usual cost is two reads; after a
// compaction by someone else, a binary search of a few dozen.
//
// Revision 1 is readable both when nothing was compacted and after a
// compaction at 1; that case reports what this Store knows (0 or 1).
func (s *Store) CompactedRevision(ctx context.Context) (int64, error) {
	known := s.compacted.Load()
	hi, err := s.Revision(ctx)
	if err != nil {
		return 0, fmt.Errorf("find etcd compaction: %w", err)
	}
	lo := max(known, 1)
	ok, err := s.readable(ctx, lo)
	if err != nil {
		return 0, fmt.Errorf("find etcd compaction: %w", err)
	}
	if !ok {
		// lo is compacted, hi (the current revision) is readable: find the
		// lowest readable revision in (lo, hi].
		for hi-lo > 1 {
			mid := lo + (hi-lo)/2
			if ok, err = s.readable(ctx, mid); err != nil {
				return 0, fmt.Errorf("find etcd compaction: %w", err)
			}
			if ok {
				hi = mid
			} else {
				lo = mid
			}
		}
		lo = hi
	}
	if lo == 1 {
		return known, nil
	}
	s.noteCompacted(lo)
	return lo, nil
}

// readable reports whether a read at rev is still possible.
func (s *Store) readable(ctx context.Context, rev int64) (bool, error) {
	_, err := s.client.Get(ctx, s.prefix+"/", clientv3.WithRev(rev), clientv3.WithCountOnly())
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, rpctypes.ErrCompacted):
		return false, nil
	}
	return false, err
}
