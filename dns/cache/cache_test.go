package cache

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"rudder/dns/dnstest"
	"rudder/dns/plugin"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeNext answers with reply(q), counting calls.
type fakeNext struct {
	calls atomic.Int32
	reply func(r *dns.Msg) *dns.Msg
}

func (f *fakeNext) ServeDNS(_ context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	f.calls.Add(1)
	m := f.reply(r)
	if !plugin.ClientWrite(m.Rcode) {
		return m.Rcode, nil
	}
	return m.Rcode, w.WriteMsg(m)
}

func (f *fakeNext) Name() string { return "fake" }

func rr(t testing.TB, s string) dns.RR {
	t.Helper()
	r, err := dns.NewRR(s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return r
}

func answer(t testing.TB, rcode int, recs ...string) func(r *dns.Msg) *dns.Msg {
	return func(r *dns.Msg) *dns.Msg {
		m := new(dns.Msg)
		m.SetRcode(r, rcode)
		for _, s := range recs {
			x := rr(t, s)
			if x.Header().Rrtype == dns.TypeSOA {
				m.Ns = append(m.Ns, x)
				continue
			}
			m.Answer = append(m.Answer, x)
		}
		return m
	}
}

func query(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	return m
}

type fixture struct {
	c     *Cache
	clock *fakeClock
	next  *fakeNext
}

func newFixture(t testing.TB, cfg Config, reply func(r *dns.Msg) *dns.Msg) *fixture {
	t.Helper()
	f := &fixture{clock: newClock(), next: &fakeNext{reply: reply}}
	cfg.Clock = f.clock.Now
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	c.Plugin()(f.next)
	f.c = c
	return f
}

func (f *fixture) ask(t testing.TB, q *dns.Msg) *dns.Msg {
	t.Helper()
	w := dnstest.NewRecorder(nil)
	rcode, err := f.c.ServeDNS(context.Background(), w, q)
	if err != nil {
		t.Fatalf("ServeDNS: %v", err)
	}
	m, _ := w.Reply()
	if !plugin.ClientWrite(rcode) {
		if m != nil {
			t.Fatalf("rcode %d returned but a reply was written", rcode)
		}
		return nil
	}
	if m == nil {
		t.Fatalf("no reply written for rcode %d", rcode)
	}
	return m
}

const soa = "example.org. 300 IN SOA ns.example.org. admin.example.org. 1 7200 3600 1209600 60"

// step is one query in a cache scenario: advance the clock, ask, and
// check how many times next has been called so far and the answer's TTL.
type step struct {
	advance   time.Duration
	name      string
	qtype     uint16
	do        bool
	wantCalls int32
	wantTTL   uint32 // of the first answer or authority record
	wantRcode int
	wantNoMsg bool
}

func TestCacheScenarios(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		reply func(r *dns.Msg) *dns.Msg
		steps []step
	}{
		{
			name:  "hit after miss, TTL counts down, expiry",
			reply: answer(t, dns.RcodeSuccess, "a.example.org. 30 IN A 10.0.0.1"),
			steps: []step{
				{name: "a.example.org.", wantCalls: 1, wantTTL: 30},
				{name: "a.example.org.", wantCalls: 1, wantTTL: 30},
				{advance: 10500 * time.Millisecond, name: "a.example.org.", wantCalls: 1, wantTTL: 20},
				{advance: 19 * time.Second, name: "a.example.org.", wantCalls: 1, wantTTL: 1},
				{advance: 500 * time.Millisecond, name: "a.example.org.", wantCalls: 2, wantTTL: 30},
			},
		},
		{
			name:  "case and trailing dot do not split entries",
			reply: answer(t, dns.RcodeSuccess, "a.example.org. 30 IN A 10.0.0.1"),
			steps: []step{
				{name: "a.example.org.", wantCalls: 1, wantTTL: 30},
				{name: "A.ExAmple.ORG.", wantCalls: 1, wantTTL: 30},
			},
		},
		{
			name:  "qtype splits entries",
			reply: answer(t, dns.RcodeSuccess, "a.example.org. 30 IN A 10.0.0.1"),
			steps: []step{
				{name: "a.example.org.", qtype: dns.TypeA, wantCalls: 1, wantTTL: 30},
				{name: "a.example.org.", qtype: dns.TypeTXT, wantCalls: 2, wantTTL: 30},
			},
		},
		{
			name:  "DO bit splits entries",
			reply: answer(t, dns.RcodeSuccess, "a.example.org. 30 IN A 10.0.0.1"),
			steps: []step{
				{name: "a.example.org.", wantCalls: 1, wantTTL: 30},
				{name: "a.example.org.", do: true, wantCalls: 2, wantTTL: 30},
				{name: "a.example.org.", do: true, wantCalls: 2, wantTTL: 30},
				{name: "a.example.org.", wantCalls: 2, wantTTL: 30},
			},
		},
		{
			name:  "NXDOMAIN cached for the SOA minimum",
			reply: answer(t, dns.RcodeNameError, soa),
			steps: []step{
				{name: "nx.example.org.", wantCalls: 1, wantTTL: 300, wantRcode: dns.RcodeNameError},
				{advance: 30 * time.Second, name: "nx.example.org.", wantCalls: 1, wantTTL: 30, wantRcode: dns.RcodeNameError},
				{advance: 30 * time.Second, name: "nx.example.org.", wantCalls: 2, wantTTL: 300, wantRcode: dns.RcodeNameError},
			},
		},
		{
			name:  "NODATA cached for the SOA minimum",
			reply: answer(t, dns.RcodeSuccess, soa),
			steps: []step{
				{name: "a.example.org.", qtype: dns.TypeAAAA, wantCalls: 1, wantTTL: 300},
				{advance: 59 * time.Second, name: "a.example.org.", qtype: dns.TypeAAAA, wantCalls: 1, wantTTL: 1},
				{advance: time.Second, name: "a.example.org.", qtype: dns.TypeAAAA, wantCalls: 2, wantTTL: 300},
			},
		},
		{
			name:  "TTL below MinTTL clamped up",
			reply: answer(t, dns.RcodeSuccess, "a.example.org. 1 IN A 10.0.0.1"),
			steps: []step{
				{name: "a.example.org.", wantCalls: 1, wantTTL: 1},
				{advance: 2 * time.Second, name: "a.example.org.", wantCalls: 1, wantTTL: 3},
				{advance: 3 * time.Second, name: "a.example.org.", wantCalls: 2, wantTTL: 1},
			},
		},
		{
			name:  "TTL above MaxTTL clamped down",
			cfg:   Config{MaxTTL: 100 * time.Second},
			reply: answer(t, dns.RcodeSuccess, "a.example.org. 86400 IN A 10.0.0.1"),
			steps: []step{
				{name: "a.example.org.", wantCalls: 1, wantTTL: 86400},
				{name: "a.example.org.", wantCalls: 1, wantTTL: 100},
				{advance: 100 * time.Second, name: "a.example.org.", wantCalls: 2, wantTTL: 86400},
			},
		},
		{
			name:  "negative TTL clamped by NegativeMaxTTL",
			cfg:   Config{NegativeMaxTTL: 10 * time.Second},
			reply: answer(t, dns.RcodeNameError, soa),
			steps: []step{
				{name: "nx.example.org.", wantCalls: 1, wantTTL: 300, wantRcode: dns.RcodeNameError},
				{name: "nx.example.org.", wantCalls: 1, wantTTL: 10, wantRcode: dns.RcodeNameError},
				{advance: 10 * time.Second, name: "nx.example.org.", wantCalls: 2, wantTTL: 300, wantRcode: dns.RcodeNameError},
			},
		},
		{
			name:  "SERVFAIL not cached",
			reply: answer(t, dns.RcodeServerFailure),
			steps: []step{
				{name: "a.example.org.", wantCalls: 1, wantNoMsg: true},
				{name: "a.example.org.", wantCalls: 2, wantNoMsg: true},
			},
		},
		{
			name: "written SERVFAIL and REFUSED not cached",
			reply: func(r *dns.Msg) *dns.Msg {
				m := new(dns.Msg)
				m.SetRcode(r, dns.RcodeRefused)
				m.Rcode = dns.RcodeYXDomain // a written error reply
				return m
			},
			steps: []step{
				{name: "a.example.org.", wantCalls: 1, wantRcode: dns.RcodeYXDomain},
				{name: "a.example.org.", wantCalls: 2, wantRcode: dns.RcodeYXDomain},
			},
		},
		{
			name: "truncated reply not cached",
			reply: func(r *dns.Msg) *dns.Msg {
				m := answer(t, dns.RcodeSuccess, "a.example.org. 30 IN A 10.0.0.1")(r)
				m.Truncated = true
				return m
			},
			steps: []step{
				{name: "a.example.org.", wantCalls: 1, wantTTL: 30},
				{name: "a.example.org.", wantCalls: 2, wantTTL: 30},
			},
		},
		{
			name: "reply to another question not cached",
			reply: func(r *dns.Msg) *dns.Msg {
				m := answer(t, dns.RcodeSuccess, "b.example.org. 30 IN A 10.0.0.1")(r)
				m.Question[0].Name = "b.example.org."
				return m
			},
			steps: []step{
				{name: "a.example.org.", wantCalls: 1, wantNoMsg: true},
				{name: "a.example.org.", wantCalls: 2, wantNoMsg: true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.cfg.PrefetchAmount == 0 {
				tt.cfg.PrefetchAmount = -1 // a background refresh would change the call counts
			}
			f := newFixture(t, tt.cfg, tt.reply)
			for i, s := range tt.steps {
				f.clock.Advance(s.advance)
				qtype := s.qtype
				if qtype == 0 {
					qtype = dns.TypeA
				}
				q := query(s.name, qtype)
				q.Id = uint16(1000 + i)
				if s.do {
					q.SetEdns0(1232, true)
				}
				m := f.ask(t, q)
				if got := f.next.calls.Load(); got != s.wantCalls {
					t.Fatalf("step %d: next called %d times, want %d", i, got, s.wantCalls)
				}
				if s.wantNoMsg {
					continue
				}
				checkReply(t, i, q, m, s)
			}
		})
	}
}

func checkReply(t *testing.T, i int, q, m *dns.Msg, s step) {
	t.Helper()
	if m.Id != q.Id || len(m.Question) != 1 || m.Question[0] != q.Question[0] {
		t.Fatalf("step %d: reply id %d question %v, want %d %v", i, m.Id, m.Question, q.Id, q.Question)
	}
	if m.Rcode != s.wantRcode {
		t.Fatalf("step %d: rcode %d, want %d", i, m.Rcode, s.wantRcode)
	}
	recs := append(append([]dns.RR{}, m.Answer...), m.Ns...)
	if len(recs) == 0 {
		if s.wantTTL != 0 {
			t.Fatalf("step %d: no records, want ttl %d", i, s.wantTTL)
		}
		return
	}
	if got := recs[0].Header().Ttl; got != s.wantTTL {
		t.Fatalf("step %d: ttl %d, want %d", i, got, s.wantTTL)
	}
}

func TestCachedReplyIsIndependent(t *testing.T) {
	f := newFixture(t, Config{}, answer(t, dns.RcodeSuccess, "a.example.org. 30 IN A 10.0.0.1", "a.example.org. 30 IN A 10.0.0.2"))
	f.ask(t, query("a.example.org.", dns.TypeA))
	m1 := f.ask(t, query("a.example.org.", dns.TypeA))
	m1.Answer = append(m1.Answer[:0], rr(t, "x.example.org. 1 IN A 1.1.1.1"))
	m1.Extra = append(m1.Extra, &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}})
	m2 := f.ask(t, query("a.example.org.", dns.TypeA))
	if len(m2.Answer) != 2 || m2.Answer[0].(*dns.A).A.String() != "10.0.0.1" || len(m2.Extra) != 0 {
		t.Fatalf("cached reply changed by a writer of an earlier reply: %v", m2)
	}
}

func TestOPTNotCached(t *testing.T) {
	f := newFixture(t, Config{}, func(r *dns.Msg) *dns.Msg {
		m := answer(t, dns.RcodeSuccess, "a.example.org. 30 IN A 10.0.0.1")(r)
		m.SetEdns0(4096, false)
		return m
	})
	f.ask(t, query("a.example.org.", dns.TypeA))
	if m := f.ask(t, query("a.example.org.", dns.TypeA)); m.IsEdns0() != nil {
		t.Fatalf("cached reply carries the upstream's OPT: %v", m)
	}
}

func TestEviction(t *testing.T) {
	reg := prometheus.NewRegistry()
	f := newFixture(t, Config{Capacity: 2, Shards: 1, Registerer: reg}, func(r *dns.Msg) *dns.Msg {
		return answer(t, dns.RcodeSuccess, r.Question[0].Name+" 30 IN A 10.0.0.1")(r)
	})
	for _, n := range []string{"a.", "b.", "c.", "d."} {
		f.ask(t, query(n, dns.TypeA))
	}
	if pos, _ := f.c.Len(); pos != 2 {
		t.Fatalf("%d positive entries, want 2", pos)
	}
	if got := value(f.c.m.evictPos); got != 2 {
		t.Fatalf("evictions %v, want 2", got)
	}
	if got := value(f.c.m.entriesPos); got != 2 {
		t.Fatalf("entries gauge %v, want 2", got)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	f := newFixture(t, Config{Registerer: reg}, answer(t, dns.RcodeNameError, soa))
	f.ask(t, query("nx.example.org.", dns.TypeA))
	f.ask(t, query("nx.example.org.", dns.TypeA))
	f.ask(t, query("nx.example.org.", dns.TypeA))
	if h, m := value(f.c.m.hitNeg), value(f.c.m.misses); h != 2 || m != 1 {
		t.Fatalf("negative hits %v misses %v, want 2 and 1", h, m)
	}
	if mfs, err := reg.Gather(); err != nil || len(mfs) == 0 {
		t.Fatalf("gather: %d metrics, %v", len(mfs), err)
	}
	if _, err := New(Config{Registerer: reg}); err == nil {
		t.Fatal("second cache on one registry: want an error")
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{Capacity: -1},
		{MinTTL: 10 * time.Second, MaxTTL: 5 * time.Second},
		{NegativeMinTTL: -time.Second},
		{PrefetchPercent: 101},
		{Shards: 3},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v): want an error", cfg)
		}
	}
}

func TestPrefetchOncePerEntry(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int32
	f := newFixture(t, Config{PrefetchAmount: 2, PrefetchPercent: 10}, nil)
	f.next.reply = func(r *dns.Msg) *dns.Msg {
		if calls.Add(1) > 1 {
			<-release // hold the refresh until the test has hit the entry often
		}
		return answer(t, dns.RcodeSuccess, "a.example.org. 100 IN A 10.0.0.1")(r)
	}
	f.ask(t, query("a.example.org.", dns.TypeA))
	f.ask(t, query("a.example.org.", dns.TypeA))
	f.ask(t, query("a.example.org.", dns.TypeA)) // popular, but not near expiry
	if got := f.next.calls.Load(); got != 1 {
		t.Fatalf("next called %d times before the prefetch window, want 1", got)
	}
	f.clock.Advance(91 * time.Second) // 9 s left, below 10% of 100 s
	for range 20 {
		m := f.ask(t, query("a.example.org.", dns.TypeA))
		if m.Answer[0].Header().Ttl != 9 {
			t.Fatalf("served ttl %d while refreshing, want 9", m.Answer[0].Header().Ttl)
		}
	}
	close(release)
	waitFor(t, func() bool {
		m := f.ask(t, query("a.example.org.", dns.TypeA))
		return m.Answer[0].Header().Ttl == 100
	})
	if got := f.next.calls.Load(); got != 2 {
		t.Fatalf("next called %d times, want 2 (one refresh)", got)
	}
	if got := value(f.c.m.prefetches); got != 1 {
		t.Fatalf("prefetch counter %v, want 1", got)
	}
}

func TestPrefetchDisabled(t *testing.T) {
	f := newFixture(t, Config{PrefetchAmount: -1}, answer(t, dns.RcodeSuccess, "a.example.org. 100 IN A 10.0.0.1"))
	f.ask(t, query("a.example.org.", dns.TypeA))
	f.clock.Advance(95 * time.Second)
	for range 5 {
		f.ask(t, query("a.example.org.", dns.TypeA))
	}
	time.Sleep(20 * time.Millisecond)
	if got := f.next.calls.Load(); got != 1 {
		t.Fatalf("next called %d times, want 1", got)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestConcurrentQueries(t *testing.T) {
	f := newFixture(t, Config{Capacity: 64, Shards: 4}, func(r *dns.Msg) *dns.Msg {
		return answer(t, dns.RcodeSuccess, r.Question[0].Name+" 30 IN A 10.0.0.1")(r)
	})
	names := []string{"a.", "b.", "c.", "d.", "e.", "f.", "g.", "h."}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				n := names[(g+i)%len(names)]
				w := dnstest.NewRecorder(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1})
				q := query(n, dns.TypeA)
				if _, err := f.c.ServeDNS(context.Background(), w, q); err != nil {
					t.Error(err)
					return
				}
				m, _ := w.Reply()
				if m == nil || len(m.Answer) != 1 || m.Answer[0].Header().Name != n {
					t.Errorf("bad reply for %s: %v", n, m)
					return
				}
				if i%100 == 0 {
					f.clock.Advance(time.Second)
				}
			}
		}()
	}
	wg.Wait()
}

func BenchmarkHit(b *testing.B) {
	f := newFixture(b, Config{}, answer(b, dns.RcodeSuccess, "a.example.org. 300 IN A 10.0.0.1"))
	c := f.c
	c.now = time.Now
	q := query("a.example.org.", dns.TypeA)
	w := &dnstest.Discard{}
	ctx := context.Background()
	if _, err := c.ServeDNS(ctx, w, q); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.ServeDNS(ctx, w, q); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// value reads a counter or gauge.
func value(c prometheus.Metric) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.Gauge.GetValue()
}

func TestPrefetchNeedsHitsWithoutGaps(t *testing.T) {
	f := newFixture(t, Config{PrefetchAmount: 2, PrefetchDuration: 5 * time.Second}, answer(t, dns.RcodeSuccess, "a.example.org. 100 IN A 10.0.0.1"))
	f.ask(t, query("a.example.org.", dns.TypeA))
	f.clock.Advance(91 * time.Second)
	f.ask(t, query("a.example.org.", dns.TypeA)) // 1 hit
	f.clock.Advance(6 * time.Second)
	f.ask(t, query("a.example.org.", dns.TypeA)) // a gap of 6 s: 1 hit again
	time.Sleep(20 * time.Millisecond)
	if got := f.next.calls.Load(); got != 1 {
		t.Fatalf("next called %d times after hits with a gap, want 1", got)
	}
	f.clock.Advance(time.Second)
	f.ask(t, query("a.example.org.", dns.TypeA)) // 2 hits: refresh
	waitFor(t, func() bool { return f.next.calls.Load() == 2 })
}
