package bolt

import (
	"bytes"
	"context"
	"fmt"

	"go.etcd.io/bbolt"

	"rudder/controlplane/storage"
)

const (
	// watchBuffer is the capacity of a watch channel.
	watchBuffer = 128
	// watchChunk caps the log entries one read transaction scans, so a
	// watcher far behind never holds a long read transaction.
	watchChunk = 512
)

// Watch streams the changes under prefix after fromRevision (0: now).
//
// Each watch has a goroutine that reads the log from its own position in
// short read transactions and sends what it read, then sleeps until the
// next commit. Writers never wait for it. If compaction passes its
// position, it sends an EventError with ErrCompacted and closes.
func (s *Store) Watch(ctx context.Context, prefix string, fromRevision int64) (<-chan storage.Event, error) {
	if err := storage.CheckPrefix(prefix); err != nil {
		return nil, fmt.Errorf("watch: %w", err)
	}
	if fromRevision < 0 {
		return nil, fmt.Errorf("watch %s from revision %d: negative revision", prefix, fromRevision)
	}
	if fromRevision == 0 {
		fromRevision = s.rev.Load()
	}
	if c := s.compacted.Load(); fromRevision < c {
		return nil, fmt.Errorf("watch %s from revision %d: %w: store is compacted at revision %d",
			prefix, fromRevision, storage.ErrCompacted, c)
	}
	if !s.track() {
		return nil, fmt.Errorf("watch %s: %w", prefix, ErrClosed)
	}
	w := &watcher{s: s, ctx: ctx, prefix: []byte(prefix), pos: fromRevision, out: make(chan storage.Event, watchBuffer)}
	go w.run()
	return w.out, nil
}

type watcher struct {
	s      *Store
	ctx    context.Context
	prefix []byte
	pos    int64 // revision of the last log entry read
	out    chan storage.Event
}

func (w *watcher) run() {
	defer w.s.wg.Done()
	defer close(w.out)
	w.s.metrics.watchers.Inc()
	defer w.s.metrics.watchers.Dec()
	for {
		wake := w.s.changed() // before reading, so no commit is missed
		evs, scanned, err := w.read()
		if err != nil {
			w.send(storage.Event{Type: storage.EventError, Err: err})
			return
		}
		for _, ev := range evs {
			if !w.send(ev) {
				return
			}
		}
		if scanned == watchChunk {
			continue
		}
		select {
		case <-wake:
		case <-w.ctx.Done():
			return
		case <-w.s.done:
			return
		}
	}
}

// send delivers ev unless the watch or the store ends first.
func (w *watcher) send(ev storage.Event) bool {
	select {
	case w.out <- ev:
		return true
	case <-w.ctx.Done():
		return false
	case <-w.s.done:
		return false
	}
}

// read returns the events under the prefix in the next chunk of the log
// and how many entries it scanned.
func (w *watcher) read() ([]storage.Event, int, error) {
	var evs []storage.Event
	scanned := 0
	err := w.s.db.View(func(tx *bbolt.Tx) error {
		b := bucketsOf(tx)
		if c := b.compacted(); w.pos < c {
			return fmt.Errorf("watch %s at revision %d: %w: store is compacted at revision %d",
				w.prefix, w.pos, storage.ErrCompacted, c)
		}
		c := b.log.Cursor()
		for k, v := c.Seek(revKey(w.pos + 1)); k != nil && scanned < watchChunk; k, v = c.Next() {
			rev := decodeRev(k)
			key, _, err := eventKey(v)
			if err != nil {
				return fmt.Errorf("watch: read log entry %d: %w", rev, err)
			}
			scanned++
			w.pos = rev
			if !bytes.HasPrefix(key, w.prefix) {
				continue
			}
			ev, err := decodeEvent(v)
			if err != nil {
				return fmt.Errorf("watch: read log entry %d: %w", rev, err)
			}
			evs = append(evs, ev.toWatch(rev))
		}
		return nil
	})
	return evs, scanned, err
}
