// Package bolt is the embedded storage.Store: one bbolt file, fsync'd on
// every commit.
//
// The file holds three buckets:
//
//	current  key → createRev, modRev, value        (the live keys)
//	log      revision → event                      (the history, kine-like)
//	meta     "revision", "compacted"               (counters)
//
// Writes go through one writer goroutine that commits whatever requests are
// waiting in a single transaction (group commit) and acknowledges each one
// after the fsync. Watchers read the log from their own position, woken by a
// broadcast after each commit, so a slow watcher only delays itself.
//
// Like etcd, an empty store is at revision 1 and the first write gets
// revision 2, so a watch from revision 1 replays every write not compacted.
package bolt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.etcd.io/bbolt"

	"rudder/controlplane/storage"
)

// DefaultHistoryLimit is how many events are kept when Config.HistoryLimit is 0.
const DefaultHistoryLimit = 100000

const (
	bucketCurrent = "current"
	bucketLog     = "log"
	bucketMeta    = "meta"
	metaRevision  = "revision"
	metaCompacted = "compacted"

	initialRevision = 1
	lockTimeout     = 10 * time.Second
	initialMmapSize = 1 << 30
)

// ErrClosed is returned by calls on a closed Store.
var ErrClosed = errors.New("store closed")

// Config configures Open.
type Config struct {
	// Path is the database file; it is created if missing.
	Path string
	// HistoryLimit is how many events the log keeps before older ones are
	// compacted automatically (0: DefaultHistoryLimit, negative: never).
	HistoryLimit int
	// Logger receives warnings and errors (nil: slog.Default()).
	Logger *slog.Logger
	// Registerer, if set, receives the store's metrics; they are
	// unregistered on Close.
	Registerer prometheus.Registerer
}

// Store is the bbolt-backed storage.Store.
type Store struct {
	db           *bbolt.DB
	log          *slog.Logger
	metrics      *metrics
	historyLimit int64

	rev       atomic.Int64 // revision of the last commit
	compacted atomic.Int64 // last compacted revision

	reqs      chan *writeReq
	compactCh chan struct{}
	compactMu sync.Mutex // one compaction at a time

	notifyMu sync.Mutex
	notify   chan struct{} // closed and replaced after each commit

	mu        sync.RWMutex // guards closed against wg.Add
	closed    bool
	done      chan struct{}
	wg        sync.WaitGroup // writer, compactor, watchers
	closeOnce sync.Once
	closeErr  error
}

var _ storage.Store = (*Store)(nil)

// Open opens (or creates) the store at cfg.Path.
func Open(cfg Config) (*Store, error) {
	if cfg.Path == "" {
		return nil, errors.New("open bolt store: empty path")
	}
	opts := &bbolt.Options{
		Timeout:        lockTimeout,
		NoFreelistSync: true,
		FreelistType:   bbolt.FreelistMapType,
		// Reserve address space up front: remapping a growing file waits
		// for every read transaction to end.
		InitialMmapSize: initialMmapSize,
	}
	db, err := bbolt.Open(cfg.Path, 0o600, opts)
	if err != nil {
		return nil, fmt.Errorf("open bolt store %s: %w", cfg.Path, err)
	}
	rev, compacted, err := initMeta(db)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open bolt store %s: %w", cfg.Path, err), db.Close())
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open bolt store %s: %w", cfg.Path, err), db.Close())
	}
	s := &Store{
		db:           db,
		log:          cfg.Logger,
		metrics:      m,
		historyLimit: int64(cfg.HistoryLimit),
		reqs:         make(chan *writeReq),
		compactCh:    make(chan struct{}, 1),
		notify:       make(chan struct{}),
		done:         make(chan struct{}),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.historyLimit == 0 {
		s.historyLimit = DefaultHistoryLimit
	}
	s.rev.Store(rev)
	s.compacted.Store(compacted)
	s.wg.Add(2)
	go s.runWriter()
	go s.runCompactor()
	s.compactCh <- struct{}{} // finish any compaction cut short last time
	return s, nil
}

// initMeta creates the buckets and returns the stored counters.
func initMeta(db *bbolt.DB) (rev, compacted int64, err error) {
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, name := range []string{bucketCurrent, bucketLog, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		b := bucketsOf(tx)
		if rev = b.revision(); rev == 0 {
			rev = initialRevision
			return b.setRevision(rev)
		}
		compacted = b.compacted()
		return nil
	})
	return rev, compacted, err
}

// Close stops the writer, the compactor and every watch (their channels
// close), then closes the file. Calling it again returns the same result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.done)
		s.wg.Wait()
		s.metrics.unregister()
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("close bolt store: %w", err)
		}
	})
	return s.closeErr
}

// track adds a goroutine to the set Close waits for; false once closed.
func (s *Store) track() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

// Get returns the current value of key.
func (s *Store) Get(ctx context.Context, key string) (*storage.KeyValue, error) {
	if err := storage.CheckKey(key); err != nil {
		return nil, fmt.Errorf("get: %w", err)
	}
	var kv *storage.KeyValue
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := bucketsOf(tx).current.Get([]byte(key))
		if v == nil {
			return storage.ErrNotFound
		}
		var err error
		kv, err = decodeRecord(key, v)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	return kv, nil
}

// Revision returns the revision of the last committed write.
func (s *Store) Revision(ctx context.Context) (int64, error) {
	return s.rev.Load(), nil
}

// CompactedRevision returns the revision of the last compaction (0: none).
func (s *Store) CompactedRevision(ctx context.Context) (int64, error) {
	return s.compacted.Load(), nil
}

// changed returns a channel closed by the next commit.
func (s *Store) changed() <-chan struct{} {
	s.notifyMu.Lock()
	defer s.notifyMu.Unlock()
	return s.notify
}

// broadcast wakes every watcher waiting on changed.
func (s *Store) broadcast() {
	s.notifyMu.Lock()
	defer s.notifyMu.Unlock()
	close(s.notify)
	s.notify = make(chan struct{})
}

// buckets are the three buckets of one transaction.
type buckets struct {
	current, log, meta *bbolt.Bucket
}

func bucketsOf(tx *bbolt.Tx) buckets {
	return buckets{
		current: tx.Bucket([]byte(bucketCurrent)),
		log:     tx.Bucket([]byte(bucketLog)),
		meta:    tx.Bucket([]byte(bucketMeta)),
	}
}

func (b buckets) counter(name string) int64 {
	v := b.meta.Get([]byte(name))
	if len(v) != 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(v))
}

func (b buckets) revision() int64  { return b.counter(metaRevision) }
func (b buckets) compacted() int64 { return b.counter(metaCompacted) }

func (b buckets) setRevision(rev int64) error {
	return b.meta.Put([]byte(metaRevision), revKey(rev))
}

func (b buckets) setCompacted(rev int64) error {
	return b.meta.Put([]byte(metaCompacted), revKey(rev))
}
