package bolt

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"

	"go.etcd.io/bbolt"

	"rudder/controlplane/storage"
)

// List returns the keys under prefix in key order, as of opts.Revision.
//
// A list at an old revision starts from the current keys and undoes the log
// entries after that revision: the first entry after it for a key tells
// what the key held then. Its cost grows with the writes since.
func (s *Store) List(ctx context.Context, prefix string, opts storage.ListOptions) (*storage.ListResult, error) {
	if err := storage.CheckPrefix(prefix); err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	var res *storage.ListResult
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := bucketsOf(tx)
		at, err := listRevision(b, opts.Revision)
		if err != nil {
			return err
		}
		var past map[string]*storage.KeyValue
		if at < b.revision() {
			if past, err = stateAt(ctx, b.log, prefix, at); err != nil {
				return err
			}
		}
		res, err = collect(b.current, prefix, opts, past)
		if err != nil {
			return err
		}
		res.Revision = at
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s at revision %d: %w", prefix, opts.Revision, err)
	}
	return res, nil
}

// listRevision checks the requested revision against the store's counters.
func listRevision(b buckets, want int64) (int64, error) {
	cur, compacted := b.revision(), b.compacted()
	switch {
	case want == 0:
		return cur, nil
	case want > cur:
		return 0, fmt.Errorf("%w: store is at revision %d", storage.ErrFuture, cur)
	case want < compacted:
		return 0, fmt.Errorf("%w: store is compacted at revision %d", storage.ErrCompacted, compacted)
	}
	return want, nil
}

// stateAt returns, for each key under prefix written after revision at,
// what it held at that revision (nil: absent).
func stateAt(ctx context.Context, log *bbolt.Bucket, prefix string, at int64) (map[string]*storage.KeyValue, error) {
	past := map[string]*storage.KeyValue{}
	c := log.Cursor()
	n := 0
	for k, v := c.Seek(revKey(at + 1)); k != nil; k, v = c.Next() {
		if n++; n%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		key, _, err := eventKey(v)
		if err != nil {
			return nil, fmt.Errorf("read log entry %d: %w", decodeRev(k), err)
		}
		if !bytes.HasPrefix(key, []byte(prefix)) {
			continue
		}
		if _, seen := past[string(key)]; seen {
			continue
		}
		ev, err := decodeEvent(v)
		if err != nil {
			return nil, fmt.Errorf("read log entry %d: %w", decodeRev(k), err)
		}
		past[ev.key] = ev.before()
	}
	return past, nil
}

// collect merges the untouched current keys with the past state of the
// touched ones, from the first key after opts.StartKey, up to opts.Limit.
func collect(cur *bbolt.Bucket, prefix string, opts storage.ListOptions, past map[string]*storage.KeyValue) (*storage.ListResult, error) {
	from := prefix
	if opts.StartKey != "" && opts.StartKey+"\x00" > from {
		from = opts.StartKey + "\x00"
	}
	older := pastInRange(past, prefix, from)
	res := &storage.ListResult{Items: []storage.KeyValue{}}
	full := func() bool { return opts.Limit > 0 && int64(len(res.Items)) >= opts.Limit }
	c := cur.Cursor()
	k, v := c.Seek([]byte(from))
	for {
		for k != nil && hasKey(past, k) { // touched since: use its past state
			k, v = c.Next()
		}
		live := k != nil && bytes.HasPrefix(k, []byte(prefix))
		if !live && len(older) == 0 {
			break
		}
		takeLive := live && (len(older) == 0 || string(k) < older[0].Key)
		switch {
		case full():
			res.Remaining++
		case takeLive:
			kv, err := decodeRecord(string(k), v)
			if err != nil {
				return nil, err
			}
			res.Items = append(res.Items, *kv)
		default:
			res.Items = append(res.Items, *older[0])
		}
		if takeLive {
			k, v = c.Next()
		} else {
			older = older[1:]
		}
	}
	res.More = res.Remaining > 0
	return res, nil
}

func hasKey(m map[string]*storage.KeyValue, k []byte) bool {
	_, ok := m[string(k)]
	return ok
}

// pastInRange returns the keys that existed at the listed revision, sorted,
// that fall in the listed range.
func pastInRange(past map[string]*storage.KeyValue, prefix, from string) []*storage.KeyValue {
	var out []*storage.KeyValue
	for key, kv := range past {
		if kv != nil && key >= from && strings.HasPrefix(key, prefix) {
			out = append(out, kv)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}
