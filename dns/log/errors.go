package log

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/miekg/dns"
	"k8s.io/utils/clock"

	"rudder/dns/plugin"
)

// ErrorsConfig configures the error sink.
type ErrorsConfig struct {
	// Logger receives the error records (slog.Default when nil).
	Logger *slog.Logger
	// Period is how long repeats of one error are counted before the
	// count is logged (default 1 minute).
	Period time.Duration
	// MaxDistinct bounds the distinct errors remembered per period
	// (default 100); further new errors are only counted as "suppressed".
	MaxDistinct int
	// Clock is the time source (the real clock when nil).
	Clock clock.WithTicker
}

// Errors logs each distinct error (by its text) the first time it is
// seen in a period, with the query name and type, and at the end of the
// period one record per error that repeated, with the count. It is safe
// for concurrent use and is the server's ErrorReporter.
type Errors struct {
	cfg ErrorsConfig

	mu         sync.Mutex
	start      time.Time
	seen       map[string]*errorCount
	suppressed int
}

type errorCount struct {
	qname   string
	repeats int
}

// NewErrors makes an error sink; call Run to flush counts on time
// (otherwise they are flushed by the next error after the period).
func NewErrors(cfg ErrorsConfig) *Errors {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Period <= 0 {
		cfg.Period = time.Minute
	}
	if cfg.MaxDistinct <= 0 {
		cfg.MaxDistinct = 100
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	return &Errors{cfg: cfg, start: cfg.Clock.Now(), seen: map[string]*errorCount{}}
}

// Report records one failed query.
func (e *Errors) Report(qname string, qtype uint16, err error) {
	if err == nil {
		return
	}
	msg := err.Error()
	e.mu.Lock()
	if e.cfg.Clock.Since(e.start) >= e.cfg.Period {
		e.flushLocked()
	}
	if c, ok := e.seen[msg]; ok {
		c.repeats++
		e.mu.Unlock()
		return
	}
	if len(e.seen) >= e.cfg.MaxDistinct {
		e.suppressed++
		e.mu.Unlock()
		return
	}
	e.seen[msg] = &errorCount{qname: qname}
	e.mu.Unlock()
	e.cfg.Logger.Warn("dns query failed", "qname", qname, "qtype", dns.Type(qtype).String(), "err", msg)
}

// Flush logs the repeat counts of the current period and starts a new one.
func (e *Errors) Flush() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.flushLocked()
}

func (e *Errors) flushLocked() {
	period := e.cfg.Clock.Since(e.start).Round(time.Second)
	for msg, c := range e.seen {
		if c.repeats > 0 {
			e.cfg.Logger.Warn("dns query failed repeatedly", "err", msg, "repeats", c.repeats, "first_qname", c.qname, "period", period)
		}
	}
	if e.suppressed > 0 {
		e.cfg.Logger.Warn("dns query errors suppressed", "count", e.suppressed, "distinct_max", e.cfg.MaxDistinct, "period", period)
	}
	e.seen, e.suppressed, e.start = map[string]*errorCount{}, 0, e.cfg.Clock.Now()
}

// Run flushes every period until ctx ends, then once more.
func (e *Errors) Run(ctx context.Context) {
	t := e.cfg.Clock.NewTicker(e.cfg.Period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			e.Flush()
			return
		case <-t.C():
			e.Flush()
		}
	}
}

// Plugin returns a handler that reports the errors next returns and
// clears them, so the server does not log them again.
func (e *Errors) Plugin() plugin.Plugin {
	return func(next plugin.Handler) plugin.Handler { return &errorsHandler{e: e, next: next} }
}

type errorsHandler struct {
	e    *Errors
	next plugin.Handler
}

// Name is "errors".
func (h *errorsHandler) Name() string { return "errors" }

// ServeDNS runs next and reports its error.
func (h *errorsHandler) ServeDNS(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	rcode, err := plugin.Next(ctx, h.Name(), h.next, w, r)
	if err != nil {
		req := plugin.NewRequest(w, r)
		h.e.Report(req.Name(), req.QType(), err)
	}
	return rcode, nil
}
