// Package etcd is the storage.Store over an etcd v3 cluster.
//
// Every key is stored under Config.Prefix; the store's revision is etcd's
// (cluster-wide) revision, so it also moves when other clients write
// outside the prefix. Writes are single transactions that compare the
// key's create or mod revision, as the Kubernetes apiserver does.
package etcd

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"rudder/controlplane/storage"
)

// Defaults for Config.
const (
	DefaultPrefix      = "/rudder"
	DefaultDialTimeout = 5 * time.Second
)

// Config configures New.
type Config struct {
	// Endpoints are the etcd client URLs, e.g. https://10.0.0.1:2379.
	Endpoints []string
	// TLS, if set, is used as is. Otherwise CAFile, CertFile and KeyFile,
	// if any is set, build one (CA to verify the server; cert and key for
	// client authentication).
	TLS                       *tls.Config
	CAFile, CertFile, KeyFile string
	// Prefix is prepended to every key (default DefaultPrefix; "/" for
	// none). Keys start with '/', so "/rudder" gives "/rudder/registry/…".
	Prefix string
	// DialTimeout bounds connecting and the first request (default
	// DefaultDialTimeout).
	DialTimeout time.Duration
	// Logger receives the etcd client's logs (nil: slog.Default()).
	Logger *slog.Logger
}

// Store is the etcd-backed storage.Store.
type Store struct {
	client    *clientv3.Client
	prefix    string       // without a trailing '/'
	compacted atomic.Int64 // highest compaction revision known
	closeOnce sync.Once
	closeErr  error
}

var _ storage.Store = (*Store)(nil)

// New connects to etcd and checks that it answers.
func New(cfg Config) (*Store, error) {
	if len(cfg.Endpoints) == 0 {
		return nil, errors.New("connect to etcd: no endpoints")
	}
	tlsCfg, err := clientTLS(cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to etcd: %w", err)
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	client, err := clientv3.New(clientv3.Config{
		Endpoints:   cfg.Endpoints,
		DialTimeout: cfg.DialTimeout,
		TLS:         tlsCfg,
		Logger:      zapToSlog(cfg.Logger.With("component", "etcd-client")),
	})
	if err != nil {
		return nil, fmt.Errorf("connect to etcd %v: %w", cfg.Endpoints, err)
	}
	s := &Store{client: client, prefix: strings.TrimSuffix(cfg.Prefix, "/")}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.DialTimeout)
	defer cancel()
	if _, err := s.Revision(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("connect to etcd %v: %w", cfg.Endpoints, err), client.Close())
	}
	return s, nil
}

// clientTLS returns the TLS configuration cfg asks for (nil: plain).
func clientTLS(cfg Config) (*tls.Config, error) {
	if cfg.TLS != nil || cfg.CAFile == "" && cfg.CertFile == "" && cfg.KeyFile == "" {
		return cfg.TLS, nil
	}
	t := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read etcd CA: %w", err)
		}
		t.RootCAs = x509.NewCertPool()
		if !t.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("read etcd CA %s: no certificate found", cfg.CAFile)
		}
	}
	if cfg.CertFile != "" || cfg.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("load etcd client certificate: %w", err)
		}
		t.Certificates = []tls.Certificate{cert}
	}
	return t, nil
}

// Close closes the client; open watches end and their channels close.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if err := s.client.Close(); err != nil && !errors.Is(err, context.Canceled) {
			s.closeErr = fmt.Errorf("close etcd client: %w", err)
		}
	})
	return s.closeErr
}

// key is the etcd key of a store key.
func (s *Store) key(key string) string { return s.prefix + key }

// rangeOf is the etcd key range [start, end) of a store prefix.
func (s *Store) rangeOf(prefix string) (start, end string) {
	start = s.prefix + prefix
	if prefix == "" {
		start = s.prefix + "/"
	}
	return start, clientv3.GetPrefixRangeEnd(start)
}

func (s *Store) kv(m *mvccpb.KeyValue) storage.KeyValue {
	return storage.KeyValue{
		Key:            strings.TrimPrefix(string(m.Key), s.prefix),
		Value:          m.Value,
		CreateRevision: m.CreateRevision,
		ModRevision:    m.ModRevision,
	}
}

// mapErr turns etcd's revision errors into the storage sentinels.
func mapErr(err error) error {
	switch {
	case errors.Is(err, rpctypes.ErrCompacted):
		return fmt.Errorf("%w (%w)", storage.ErrCompacted, err)
	case errors.Is(err, rpctypes.ErrFutureRev):
		return fmt.Errorf("%w (%w)", storage.ErrFuture, err)
	}
	return err
}

// Get returns the current value of key.
func (s *Store) Get(ctx context.Context, key string) (*storage.KeyValue, error) {
	if err := storage.CheckKey(key); err != nil {
		return nil, fmt.Errorf("get: %w", err)
	}
	resp, err := s.client.Get(ctx, s.key(key))
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, fmt.Errorf("get %s: %w", key, storage.ErrNotFound)
	}
	kv := s.kv(resp.Kvs[0])
	return &kv, nil
}

// Revision returns etcd's current revision, read linearizably.
func (s *Store) Revision(ctx context.Context) (int64, error) {
	resp, err := s.client.Get(ctx, s.prefix+"/", clientv3.WithCountOnly())
	if err != nil {
		return 0, fmt.Errorf("read etcd revision: %w", err)
	}
	return resp.Header.Revision, nil
}

// List returns the keys under prefix, at opts.Revision if set, read with
// one ranged Get (WithRev, WithLimit); Remaining comes from its Count.
func (s *Store) List(ctx context.Context, prefix string, opts storage.ListOptions) (*storage.ListResult, error) {
	if err := storage.CheckPrefix(prefix); err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	from, end := s.rangeOf(prefix)
	if opts.StartKey != "" && s.key(opts.StartKey)+"\x00" > from {
		from = s.key(opts.StartKey) + "\x00"
	}
	ops := []clientv3.OpOption{clientv3.WithRange(end)}
	if opts.Revision > 0 {
		ops = append(ops, clientv3.WithRev(opts.Revision))
	}
	if opts.Limit > 0 {
		ops = append(ops, clientv3.WithLimit(opts.Limit))
	}
	resp, err := s.client.Get(ctx, from, ops...)
	if err != nil {
		return nil, fmt.Errorf("list %s at revision %d: %w", prefix, opts.Revision, mapErr(err))
	}
	res := &storage.ListResult{Items: make([]storage.KeyValue, 0, len(resp.Kvs)), Revision: resp.Header.Revision}
	if opts.Revision > 0 {
		res.Revision = opts.Revision
	}
	for _, m := range resp.Kvs {
		res.Items = append(res.Items, s.kv(m))
	}
	res.Remaining = max(resp.Count-int64(len(resp.Kvs)), 0)
	res.More = res.Remaining > 0
	return res, nil
}
