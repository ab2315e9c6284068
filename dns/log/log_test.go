package log

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	testingclock "k8s.io/utils/clock/testing"

	"rudder/dns/plugin"
)

// records is a slog.Handler that keeps records as attribute maps.
type records struct {
	mu    sync.Mutex
	level slog.Level
	recs  []map[string]string
}

func (r *records) Enabled(_ context.Context, l slog.Level) bool { return l >= r.level }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	m := map[string]string{"msg": rec.Message}
	rec.Attrs(func(a slog.Attr) bool {
		m[a.Key] = a.Value.String()
		return true
	})
	r.mu.Lock()
	r.recs = append(r.recs, m)
	r.mu.Unlock()
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }

func (r *records) all() []map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]map[string]string(nil), r.recs...)
}

type fakeWriter struct {
	remote net.Addr
	n      int
}

func (f *fakeWriter) LocalAddr() net.Addr  { return &net.UDPAddr{} }
func (f *fakeWriter) RemoteAddr() net.Addr { return f.remote }
func (f *fakeWriter) WriteMsg(*dns.Msg) error {
	f.n++
	return nil
}
func (f *fakeWriter) Write(b []byte) (int, error) { return len(b), nil }
func (f *fakeWriter) Close() error                { return nil }
func (f *fakeWriter) TsigStatus() error           { return nil }
func (f *fakeWriter) TsigTimersOnly(bool)         {}
func (f *fakeWriter) Hijack()                     {}
func (f *fakeWriter) WrittenBytes() int           { return 77 }

func answer(rcode int, err error) plugin.Plugin {
	return func(plugin.Handler) plugin.Handler {
		return plugin.HandlerFunc{N: "answer", F: func(_ context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
			if !plugin.ClientWrite(rcode) {
				return rcode, err
			}
			m := new(dns.Msg)
			m.SetRcode(r, rcode)
			return rcode, w.WriteMsg(m)
		}}
	}
}

func TestQueryLog(t *testing.T) {
	tests := []struct {
		name   string
		remote net.Addr
		rcode  int
		want   map[string]string
	}{
		{name: "udp answer", remote: &net.UDPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 999}, rcode: dns.RcodeNameError,
			want: map[string]string{"client": "10.1.2.3", "proto": "udp", "qname": "www.example.", "qtype": "AAAA", "rcode": "NXDOMAIN", "size": "77"}},
		{name: "tcp, not written", remote: &net.TCPAddr{IP: net.ParseIP("fd00::9"), Port: 999}, rcode: dns.RcodeRefused,
			want: map[string]string{"client": "fd00::9", "proto": "tcp", "rcode": "REFUSED", "size": "0"}},
	}
	for _, tt := range tests {
		rec := &records{}
		h := plugin.Chain(Queries(QueryConfig{Logger: slog.New(rec)}), answer(tt.rcode, nil))
		q := new(dns.Msg)
		q.SetQuestion("WWW.Example.", dns.TypeAAAA)
		if rc, err := h.ServeDNS(context.Background(), &fakeWriter{remote: tt.remote}, q); rc != tt.rcode || err != nil {
			t.Errorf("%s: ServeDNS = %d, %v", tt.name, rc, err)
		}
		recs := rec.all()
		if len(recs) != 1 {
			t.Fatalf("%s: %d records, want 1", tt.name, len(recs))
		}
		for k, v := range tt.want {
			if recs[0][k] != v {
				t.Errorf("%s: %s = %q, want %q", tt.name, k, recs[0][k], v)
			}
		}
		if _, ok := recs[0]["duration"]; !ok {
			t.Errorf("%s: no duration", tt.name)
		}
	}
}

func TestQueryLogDisabledLevel(t *testing.T) {
	rec := &records{level: slog.LevelWarn}
	h := plugin.Chain(Queries(QueryConfig{Logger: slog.New(rec)}), answer(dns.RcodeSuccess, nil))
	q := new(dns.Msg)
	q.SetQuestion("a.example.", dns.TypeA)
	w := &fakeWriter{remote: &net.UDPAddr{}}
	if _, err := h.ServeDNS(context.Background(), w, q); err != nil || w.n != 1 {
		t.Errorf("ServeDNS err %v, %d writes", err, w.n)
	}
	if n := len(rec.all()); n != 0 {
		t.Errorf("%d records at a disabled level", n)
	}
}

func TestErrorsConsolidate(t *testing.T) {
	rec := &records{}
	clk := testingclock.NewFakeClock(time.Unix(1000, 0))
	e := NewErrors(ErrorsConfig{Logger: slog.New(rec), Period: time.Minute, MaxDistinct: 2, Clock: clk})
	errA, errB, errC := errors.New("upstream timeout"), errors.New("no endpoints"), errors.New("third")
	for range 5 {
		e.Report("a.example.", dns.TypeA, errA)
	}
	e.Report("b.example.", dns.TypeSRV, errB)
	e.Report("c.example.", dns.TypeA, errC) // over MaxDistinct
	e.Report("c.example.", dns.TypeA, nil)  // ignored
	recs := rec.all()
	if len(recs) != 2 || recs[0]["err"] != "upstream timeout" || recs[0]["qname"] != "a.example." || recs[1]["qtype"] != "SRV" {
		t.Fatalf("first records %v", recs)
	}
	clk.Step(time.Minute)
	e.Report("a.example.", dns.TypeA, errA) // a new period: flushes, then logs again
	recs = rec.all()[2:]
	want := map[string]string{"upstream timeout": "4"}
	var sawSuppressed, sawNew bool
	for _, r := range recs {
		switch r["msg"] {
		case "dns query failed repeatedly":
			if want[r["err"]] != r["repeats"] {
				t.Errorf("repeat record %v", r)
			}
			delete(want, r["err"])
		case "dns query errors suppressed":
			sawSuppressed = r["count"] == "1"
		case "dns query failed":
			sawNew = r["err"] == "upstream timeout"
		}
	}
	if len(want) != 0 || !sawSuppressed || !sawNew {
		t.Errorf("after the period: %v", recs)
	}
}

func TestErrorsRunFlushes(t *testing.T) {
	rec := &records{}
	clk := testingclock.NewFakeClock(time.Unix(1000, 0))
	e := NewErrors(ErrorsConfig{Logger: slog.New(rec), Period: time.Second, Clock: clk})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	e.Report("a.", dns.TypeA, errors.New("x"))
	e.Report("a.", dns.TypeA, errors.New("x"))
	for !clk.HasWaiters() {
		time.Sleep(time.Millisecond)
	}
	clk.Step(time.Second)
	deadline := time.Now().Add(2 * time.Second)
	for len(rec.all()) < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	if recs := rec.all(); len(recs) != 2 || recs[1]["repeats"] != "1" {
		t.Errorf("records %v", recs)
	}
}

func TestErrorsPlugin(t *testing.T) {
	rec := &records{}
	e := NewErrors(ErrorsConfig{Logger: slog.New(rec)})
	h := plugin.Chain(e.Plugin(), answer(dns.RcodeServerFailure, errors.New("boom")))
	q := new(dns.Msg)
	q.SetQuestion("A.Example.", dns.TypeTXT)
	rc, err := h.ServeDNS(context.Background(), &fakeWriter{remote: &net.UDPAddr{}}, q)
	if rc != dns.RcodeServerFailure || err != nil {
		t.Errorf("ServeDNS = %d, %v; want SERVFAIL and the error cleared", rc, err)
	}
	if recs := rec.all(); len(recs) != 1 || recs[0]["qname"] != "a.example." || recs[0]["qtype"] != "TXT" || recs[0]["err"] != "boom" {
		t.Errorf("records %v", recs)
	}
}

func BenchmarkQueryLogOff(b *testing.B) {
	h := plugin.Chain(Queries(QueryConfig{Logger: slog.New(&records{level: slog.LevelError})}), answer(dns.RcodeSuccess, nil))
	q := new(dns.Msg)
	q.SetQuestion("a.example.", dns.TypeA)
	w := &fakeWriter{remote: &net.UDPAddr{}}
	b.ReportAllocs()
	for b.Loop() {
		_, _ = h.ServeDNS(context.Background(), w, q)
	}
}
