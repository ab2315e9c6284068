// Package log is the DNS server's logging: a structured per-query log
// handler (off unless it is put in the chain, by a flag) and an error sink
// that logs each distinct handler error once per period with a count of
// its repeats, the consolidation of CoreDNS's errors plugin.
package log

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/miekg/dns"

	"rudder/dns/plugin"
)

// QueryConfig configures the query log.
type QueryConfig struct {
	// Logger receives one record per query (slog.Default when nil).
	Logger *slog.Logger
	// Level of the records (Info by default).
	Level slog.Level
}

// Queries returns the query-log handler: one record per query with the
// client, transport, name, type, rcode, duration and reply size. Place it
// after dns/metrics so that it sees the error replies that handler
// writes; it logs the rcode it was returned when nothing was written.
func Queries(cfg QueryConfig) plugin.Plugin {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return func(next plugin.Handler) plugin.Handler {
		return &queryLog{log: cfg.Logger, level: cfg.Level, next: next}
	}
}

type queryLog struct {
	log   *slog.Logger
	level slog.Level
	next  plugin.Handler
}

// Name is "log".
func (q *queryLog) Name() string { return "log" }

// ServeDNS runs next and logs the query.
func (q *queryLog) ServeDNS(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	if !q.log.Enabled(ctx, q.level) {
		return plugin.Next(ctx, q.Name(), q.next, w, r)
	}
	begin := time.Now()
	rec := &sizeRecorder{ResponseWriter: w, rcode: -1}
	rcode, err := plugin.Next(ctx, q.Name(), q.next, rec, r)
	req := plugin.NewRequest(w, r)
	logged := rcode
	if rec.rcode >= 0 {
		logged = rec.rcode
	}
	client := ""
	if ip := req.IP(); ip != nil {
		client = ip.String()
	}
	q.log.LogAttrs(ctx, q.level, "dns query",
		slog.String("client", client),
		slog.String("proto", req.Proto()),
		slog.String("qname", req.Name()),
		slog.String("qtype", dns.Type(req.QType()).String()),
		slog.String("rcode", rcodeName(logged)),
		slog.Duration("duration", time.Since(begin)),
		slog.Int("size", rec.size),
	)
	return rcode, err
}

func rcodeName(rc int) string {
	if s, ok := dns.RcodeToString[rc]; ok {
		return s
	}
	return "RCODE" + strconv.Itoa(rc)
}

// sizeRecorder remembers the rcode and size of the reply.
type sizeRecorder struct {
	dns.ResponseWriter
	rcode int
	size  int
}

// WriteMsg writes m and records its rcode and size.
func (s *sizeRecorder) WriteMsg(m *dns.Msg) error {
	err := s.ResponseWriter.WriteMsg(m)
	if s.rcode >= 0 {
		return err
	}
	s.rcode = m.Rcode
	if b, ok := s.ResponseWriter.(interface{ WrittenBytes() int }); ok {
		s.size = b.WrittenBytes()
	} else {
		s.size = m.Len()
	}
	return err
}

// Write writes a packed reply and records its rcode and size.
func (s *sizeRecorder) Write(b []byte) (int, error) {
	n, err := s.ResponseWriter.Write(b)
	if s.rcode < 0 && len(b) >= 4 {
		s.rcode, s.size = int(b[3]&0xF), len(b)
	}
	return n, err
}

// WrittenBytes passes on the reply size.
func (s *sizeRecorder) WrittenBytes() int { return s.size }

// QueryBytes passes on the query size when the writer below tells it.
func (s *sizeRecorder) QueryBytes() int {
	if q, ok := s.ResponseWriter.(interface{ QueryBytes() int }); ok {
		return q.QueryBytes()
	}
	return 0
}
