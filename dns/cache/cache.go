// Package cache is the DNS handler that answers repeated questions from
// memory: positive replies and denials (NXDOMAIN, NODATA) are kept for
// their TTL, clamped, in a sharded store, and popular names are refreshed
// in the background before they expire.
package cache

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"rudder/dns/plugin"
)

// Defaults, the same as CoreDNS's cache plugin.
const (
	DefaultCapacity         = 9984
	DefaultNegativeCapacity = 9984
	DefaultMaxTTL           = 3600 * time.Second
	DefaultMinTTL           = 5 * time.Second
	DefaultNegativeMaxTTL   = 1800 * time.Second
	DefaultNegativeMinTTL   = 5 * time.Second
	DefaultPrefetchAmount   = 2
	DefaultPrefetchDuration = time.Minute
	DefaultPrefetchPercent  = 10
	DefaultShards           = 256
	defaultPrefetchTimeout  = 5 * time.Second
	maxShards               = 1 << 16
	failSafeTTL             = 5 * time.Second
)

// Config configures a Cache. Zero values take the defaults.
type Config struct {
	// Capacity and NegativeCapacity bound the number of positive and
	// negative entries (default 9984 each).
	Capacity, NegativeCapacity int
	// MaxTTL and MinTTL clamp the TTL of positive entries (default 3600 s
	// and 5 s); NegativeMaxTTL and NegativeMinTTL clamp denials (default
	// 1800 s and 5 s).
	MaxTTL, MinTTL                 time.Duration
	NegativeMaxTTL, NegativeMinTTL time.Duration
	// PrefetchAmount is how many hits with no gap of PrefetchDuration
	// (default 1m) or more between them make an entry popular; a popular entry whose remaining TTL is below
	// PrefetchPercent (default 10) percent of its original TTL is refreshed
	// in the background. Zero means the default 2; negative disables
	// prefetching.
	PrefetchAmount   int
	PrefetchDuration time.Duration
	PrefetchPercent  int
	// Shards is the number of shards, a power of two (default 256).
	Shards int
	// Clock returns the current time (default time.Now).
	Clock func() time.Time
	// Registerer receives the metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Logger logs prefetch failures (default slog.Default()).
	Logger *slog.Logger
}

// Cache is the caching handler. Build it with New and put it in a chain
// with its Plugin method.
type Cache struct {
	cfg      Config
	now      func() time.Time
	pos, neg *store
	m        *metrics
	log      *slog.Logger
	next     plugin.Handler
}

// New checks cfg, fills in defaults and returns a Cache.
func New(cfg Config) (*Cache, error) {
	if err := cfg.defaults(); err != nil {
		return nil, fmt.Errorf("configure dns cache: %w", err)
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("configure dns cache: %w", err)
	}
	c := &Cache{cfg: cfg, now: cfg.Clock, m: m, log: cfg.Logger}
	c.pos = newStore(cfg.Shards, cfg.Capacity, m.entriesPos, m.evictPos)
	c.neg = newStore(cfg.Shards, cfg.NegativeCapacity, m.entriesNeg, m.evictNeg)
	return c, nil
}

func (cfg *Config) defaults() error {
	setInt(&cfg.Capacity, DefaultCapacity)
	setInt(&cfg.NegativeCapacity, DefaultNegativeCapacity)
	setDur(&cfg.MaxTTL, DefaultMaxTTL)
	setDur(&cfg.MinTTL, DefaultMinTTL)
	setDur(&cfg.NegativeMaxTTL, DefaultNegativeMaxTTL)
	setDur(&cfg.NegativeMinTTL, DefaultNegativeMinTTL)
	setInt(&cfg.PrefetchAmount, DefaultPrefetchAmount)
	setDur(&cfg.PrefetchDuration, DefaultPrefetchDuration)
	setInt(&cfg.PrefetchPercent, DefaultPrefetchPercent)
	setInt(&cfg.Shards, DefaultShards)
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	switch {
	case cfg.Capacity < 0 || cfg.NegativeCapacity < 0:
		return fmt.Errorf("capacity %d/%d: must not be negative", cfg.Capacity, cfg.NegativeCapacity)
	case cfg.MinTTL < 0 || cfg.MaxTTL < cfg.MinTTL:
		return fmt.Errorf("ttl range [%s, %s]: need 0 <= min <= max", cfg.MinTTL, cfg.MaxTTL)
	case cfg.NegativeMinTTL < 0 || cfg.NegativeMaxTTL < cfg.NegativeMinTTL:
		return fmt.Errorf("negative ttl range [%s, %s]: need 0 <= min <= max", cfg.NegativeMinTTL, cfg.NegativeMaxTTL)
	case cfg.PrefetchPercent < 0 || cfg.PrefetchPercent > 100:
		return fmt.Errorf("prefetch percentage %d: must be within 0..100", cfg.PrefetchPercent)
	case cfg.Shards < 1 || cfg.Shards > maxShards || cfg.Shards&(cfg.Shards-1) != 0:
		return fmt.Errorf("shards %d: must be a power of two up to %d", cfg.Shards, maxShards)
	}
	return nil
}

func setInt(p *int, d int) {
	if *p == 0 {
		*p = d
	}
}

func setDur(p *time.Duration, d time.Duration) {
	if *p == 0 {
		*p = d
	}
}

// Plugin puts the cache in front of next. Call it once, while building
// the chain: plugin.Chain(c.Plugin(), ...).
func (c *Cache) Plugin() plugin.Plugin {
	return func(next plugin.Handler) plugin.Handler {
		c.next = next
		return c
	}
}

// Name is "cache".
func (c *Cache) Name() string { return "cache" }

// Len returns the number of positive and negative entries.
func (c *Cache) Len() (positive, negative int) { return c.pos.len(), c.neg.len() }

// ServeDNS answers from the cache or asks next and keeps its reply.
func (c *Cache) ServeDNS(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	if len(r.Question) != 1 || r.Opcode != dns.OpcodeQuery {
		return plugin.Next(ctx, c.Name(), c.next, w, r)
	}
	q := &r.Question[0]
	flags := flagsOf(r)
	k := hashKey(q.Name, q.Qtype, q.Qclass, flags)
	now := c.now()
	if it, neg := c.lookup(k, q, flags, now); it != nil {
		c.m.hit(neg)
		if c.shouldPrefetch(it, now) {
			c.startPrefetch(ctx, w, r, it)
		}
		m := it.reply(r, now)
		if err := w.WriteMsg(m); err != nil {
			return dns.RcodeServerFailure, fmt.Errorf("cache: write cached reply: %w", err)
		}
		return m.Rcode, nil
	}
	c.m.miss()
	cw := &captureWriter{ResponseWriter: w, c: c, key: k, flags: flags, q: *q}
	return plugin.Next(ctx, c.Name(), c.next, cw, r)
}

// lookup finds a live entry for the query, positive first.
func (c *Cache) lookup(k uint64, q *dns.Question, flags uint8, now time.Time) (*item, bool) {
	if it := c.pos.get(k, q, flags, now); it != nil {
		return it, false
	}
	if it := c.neg.get(k, q, flags, now); it != nil {
		return it, true
	}
	return nil, false
}

// captureWriter stores the reply of the next handler on its way out.
type captureWriter struct {
	dns.ResponseWriter
	c     *Cache
	key   uint64
	flags uint8
	q     dns.Question
}

// WriteMsg keeps a copy of m when it can be cached, then writes it.
func (cw *captureWriter) WriteMsg(m *dns.Msg) error {
	cw.c.set(cw.key, cw.flags, cw.q, m)
	return cw.ResponseWriter.WriteMsg(m)
}

// Write unpacks b so that it can be cached, then writes b.
func (cw *captureWriter) Write(b []byte) (int, error) {
	m := new(dns.Msg)
	if err := m.Unpack(b); err == nil {
		cw.c.set(cw.key, cw.flags, cw.q, m)
	}
	return cw.ResponseWriter.Write(b)
}

// set stores m under k when it is cacheable.
func (c *Cache) set(k uint64, flags uint8, q dns.Question, m *dns.Msg) {
	kind, ttl, ok := classify(m, q)
	if !ok {
		return
	}
	now := c.now()
	if kind == kindNegative {
		ttl = clamp(ttl, c.cfg.NegativeMinTTL, c.cfg.NegativeMaxTTL)
		c.neg.put(k, newItem(m, q, ttl, now, flags))
		c.pos.del(k)
		return
	}
	ttl = clamp(ttl, c.cfg.MinTTL, c.cfg.MaxTTL)
	c.pos.put(k, newItem(m, q, ttl, now, flags))
	c.neg.del(k)
}

func clamp(d, lo, hi time.Duration) time.Duration {
	return min(max(d, lo), hi)
}
