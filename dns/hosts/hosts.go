// Package hosts is the DNS handler for static entries: an /etc/hosts
// style file, reloaded when it changes, and inline entries. It answers A,
// AAAA and PTR for the names it lists, NODATA for their other types, and
// passes every other query to the next handler.
package hosts

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"rudder/dns/plugin"
)

// Defaults.
const (
	DefaultTTL    = 3600 * time.Second
	DefaultReload = 5 * time.Second
)

// Config configures Hosts. Zero values take the defaults.
type Config struct {
	// Path is an /etc/hosts style file; empty for none. Its bad lines
	// are skipped and logged.
	Path string
	// Entries are inline lines in the same format ("10.0.0.1 db db.lan");
	// a bad one is an error. They come before the file's.
	Entries []string
	// TTL of the answers (default 3600 s).
	TTL time.Duration
	// Reload is how often Run checks the file for changes (default 5 s).
	Reload time.Duration
	// Logger (default slog.Default()).
	Logger *slog.Logger
}

// Hosts is the static entries handler.
type Hosts struct {
	cfg   Config
	ttl   uint32
	table atomic.Pointer[table]
	log   *slog.Logger
	next  plugin.Handler

	stamp fileStamp // of the loaded file; only Run touches it after New
}

// fileStamp tells whether a file changed since it was read.
type fileStamp struct {
	mod  time.Time
	size int64
}

// New parses the entries and reads the file.
func New(cfg Config) (*Hosts, error) {
	if cfg.TTL == 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Reload == 0 {
		cfg.Reload = DefaultReload
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.TTL < time.Second || cfg.Reload < 0 {
		return nil, fmt.Errorf("configure dns hosts: ttl %s (at least 1s), reload %s (not negative)", cfg.TTL, cfg.Reload)
	}
	h := &Hosts{cfg: cfg, ttl: uint32(cfg.TTL / time.Second), log: cfg.Logger}
	if _, err := h.inline(); err != nil {
		return nil, fmt.Errorf("configure dns hosts: %w", err)
	}
	if err := h.load(); err != nil {
		return nil, fmt.Errorf("configure dns hosts: %w", err)
	}
	return h, nil
}

// inline parses the inline entries into a new table.
func (h *Hosts) inline() (*table, error) {
	t := newTable()
	_, err := t.parse(strings.NewReader(strings.Join(h.cfg.Entries, "\n")), "inline entry", true)
	return t, err
}

// load builds the table from the inline entries and the file.
func (h *Hosts) load() error {
	t, err := h.inline()
	if err != nil {
		return err
	}
	if h.cfg.Path != "" {
		f, err := os.Open(h.cfg.Path)
		if err != nil {
			return fmt.Errorf("open hosts file: %w", err)
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return fmt.Errorf("stat hosts file: %w", err)
		}
		skipped, err := t.parse(f, h.cfg.Path, false)
		if err != nil {
			return err
		}
		for _, e := range skipped {
			h.log.Warn("dns hosts: line skipped", "err", e)
		}
		h.stamp = fileStamp{mod: st.ModTime(), size: st.Size()}
	}
	h.table.Store(t)
	return nil
}

// Run reloads the file every Reload when its modification time or size
// changed, until ctx ends. A file that cannot be read keeps the entries
// loaded before.
func (h *Hosts) Run(ctx context.Context) error {
	if h.cfg.Path == "" {
		<-ctx.Done()
		return nil
	}
	t := time.NewTicker(h.cfg.Reload)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		st, err := os.Stat(h.cfg.Path)
		if err != nil {
			h.log.Warn("dns hosts: stat file", "path", h.cfg.Path, "err", err)
			continue
		}
		if (fileStamp{mod: st.ModTime(), size: st.Size()}) == h.stamp {
			continue
		}
		if err := h.load(); err != nil {
			h.log.Warn("dns hosts: reload", "path", h.cfg.Path, "err", err)
			continue
		}
		h.log.Info("dns hosts: reloaded", "path", h.cfg.Path)
	}
}

// Plugin puts Hosts in the chain before next. Call it once.
func (h *Hosts) Plugin() plugin.Plugin {
	return func(next plugin.Handler) plugin.Handler {
		h.next = next
		return h
	}
}

// Name is "hosts".
func (h *Hosts) Name() string { return "hosts" }

// ServeDNS answers A, AAAA and PTR for listed names and NODATA for their
// other types; everything else goes to next.
func (h *Hosts) ServeDNS(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	if len(r.Question) != 1 || r.Question[0].Qclass != dns.ClassINET {
		return plugin.Next(ctx, h.Name(), h.next, w, r)
	}
	q := r.Question[0]
	name := strings.ToLower(dns.Fqdn(q.Name))
	t := h.table.Load()
	answers := h.answers(t, q, name)
	if len(answers) == 0 && !t.has(name) {
		return plugin.Next(ctx, h.Name(), h.next, w, r)
	}
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	m.Answer = answers
	if err := w.WriteMsg(m); err != nil {
		return dns.RcodeServerFailure, fmt.Errorf("hosts: write reply: %w", err)
	}
	return dns.RcodeSuccess, nil
}

// answers builds the records for q, owned by the name as asked.
func (h *Hosts) answers(t *table, q dns.Question, name string) []dns.RR {
	hdr := dns.RR_Header{Name: q.Name, Rrtype: q.Qtype, Class: dns.ClassINET, Ttl: h.ttl}
	var out []dns.RR
	switch q.Qtype {
	case dns.TypeA:
		for _, ip := range t.v4[name] {
			out = append(out, &dns.A{Hdr: hdr, A: ip})
		}
	case dns.TypeAAAA:
		for _, ip := range t.v6[name] {
			out = append(out, &dns.AAAA{Hdr: hdr, AAAA: ip})
		}
	case dns.TypePTR:
		for _, target := range t.reverse[name] {
			out = append(out, &dns.PTR{Hdr: hdr, Ptr: target})
		}
	}
	return out
}
