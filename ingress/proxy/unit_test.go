package proxy

import (
	"net/http"
	"net/netip"
	"testing"
	"time"

	"rudder/ingress/route"
)

func TestHostOnly(t *testing.T) {
	for in, want := range map[string]string{
		"foo.example":      "foo.example",
		"Foo.Example:8080": "foo.example",
		"[::1]:443":        "::1",
		"[::1]":            "::1",
		"::1":              "::1",
		"":                 "",
	} {
		if got := hostOnly(in); got != want {
			t.Errorf("hostOnly(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRequestID(t *testing.T) {
	for id, valid := range map[string]bool{
		"abc-123_x.y":                true,
		"":                           false,
		"has space":                  false,
		"a\nb":                       false,
		string(make([]byte, 129)):    false,
		"0123456789abcdef0123456789": true,
	} {
		if got := validRequestID(id); got != valid {
			t.Errorf("validRequestID(%q) = %v, want %v", id, got, valid)
		}
	}
	a, b := newRequestID(), newRequestID()
	if len(a) != 32 || a == b || !validRequestID(a) {
		t.Errorf("newRequestID: %q, %q", a, b)
	}
	h := http.Header{"X-Request-Id": {"bad id"}}
	if got := requestID(h); got == "bad id" {
		t.Error("an invalid client id was kept")
	}
}

func TestCORSOrigin(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cors   route.CORS
		origin string
		want   string
	}{
		{"wildcard", route.CORS{AllowOrigins: []string{"*"}}, "https://a", "*"},
		{"wildcard with credentials does not reflect", route.CORS{AllowOrigins: []string{"*"}, AllowCredentials: true}, "https://a", "*"},
		{"exact", route.CORS{AllowOrigins: []string{"https://b", "https://a"}}, "https://a", "https://a"},
		{"not listed", route.CORS{AllowOrigins: []string{"https://b"}}, "https://a", ""},
		{"no origin", route.CORS{AllowOrigins: []string{"*"}}, "", ""},
	} {
		if got := corsOrigin(&tc.cors, tc.origin); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestRateLimiter(t *testing.T) {
	l := newRateLimiter(4)
	t0 := time.Unix(1000, 0)
	a := netip.MustParseAddr("192.0.2.1")
	b := netip.MustParseAddr("192.0.2.2")
	for i := range 5 {
		if !l.allow("ns/ing", a, 1, t0) {
			t.Fatalf("request %d of the burst refused", i)
		}
	}
	if l.allow("ns/ing", a, 1, t0) {
		t.Fatal("request past the burst allowed")
	}
	if !l.allow("ns/ing", b, 1, t0) || !l.allow("ns/other", a, 1, t0) {
		t.Fatal("buckets are not per client and scope")
	}
	if !l.allow("ns/ing", a, 1, t0.Add(time.Second)) || l.allow("ns/ing", a, 1, t0.Add(time.Second)) {
		t.Fatal("refill is not one token per second")
	}
	// Bounded memory: idle buckets are evicted when the map is full.
	for i := range 10 {
		l.allow("ns/ing", netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}), 1, t0.Add(time.Duration(i)*time.Minute))
	}
	if n := l.len(); n > 4 {
		t.Fatalf("limiter holds %d buckets, max 4", n)
	}
	// A flood of new addresses, none idle: a client that used its burst
	// stays limited (the least recently used buckets go, not all).
	l = newRateLimiter(4)
	for range 5 {
		l.allow("ns/ing", a, 1, t0)
	}
	for i := range 100 {
		at := t0.Add(time.Duration(2*i+1) * time.Microsecond)
		l.allow("ns/ing", netip.AddrFrom4([4]byte{10, 0, 1, byte(i)}), 1, at)
		l.allow("ns/ing", a, 1, at.Add(time.Microsecond)) // a stays the most recently used
	}
	if n := l.len(); n > 4 {
		t.Fatalf("limiter holds %d buckets, max 4", n)
	}
	if l.allow("ns/ing", a, 1, t0.Add(time.Millisecond)) {
		t.Fatal("a flood of new addresses reset the limit of an active client")
	}
}

func TestEjectionBackoff(t *testing.T) {
	set := newEndpointSet()
	e := set.get("127.0.0.1:1")
	now := time.Unix(1000, 0)
	for i := 1; i < ejectAfter; i++ {
		if e.failed(now) {
			t.Fatalf("ejected after %d failures", i)
		}
	}
	e.succeeded()
	for i := 1; i < ejectAfter; i++ {
		e.failed(now)
	}
	if e.ejected(now.UnixNano()) {
		t.Fatal("a success did not reset the failure count")
	}
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second, 160 * time.Second, 5 * time.Minute, 5 * time.Minute}
	for i, d := range want {
		for !e.failed(now) {
		}
		if got := time.Duration(e.ejectedUntil.Load() - now.UnixNano()); got != d {
			t.Fatalf("ejection %d lasts %v, want %v", i, got, d)
		}
		now = now.Add(d + time.Second)
	}
	// Healthy for longer than the maximum: back to the base duration.
	now = now.Add(2 * ejectMax)
	for !e.failed(now) {
	}
	if got := time.Duration(e.ejectedUntil.Load() - now.UnixNano()); got != ejectBase {
		t.Fatalf("after a long healthy period the ejection lasts %v, want %v", got, ejectBase)
	}
}

func TestPick(t *testing.T) {
	set := newEndpointSet()
	b := newBackendState(set, []string{"a:1", "b:1", "c:1"})
	now := time.Unix(1000, 0).UnixNano()
	a, bb, c := b.eps[0], b.eps[1], b.eps[2]
	// Round robin cycles.
	var got []string
	for range 6 {
		got = append(got, b.pick(route.RoundRobin, nil, now).addr)
	}
	if want := "a:1 b:1 c:1 a:1 b:1 c:1"; join(got) != want {
		t.Fatalf("round robin %v, want %s", got, want)
	}
	// Tried endpoints are skipped; all tried gives nil.
	if e := b.pick(route.RoundRobin, []*endpoint{a, bb}, now); e != c {
		t.Fatalf("with a, b tried picked %v", e.addr)
	}
	if e := b.pick(route.RoundRobin, []*endpoint{a, bb, c}, now); e != nil {
		t.Fatalf("all tried picked %v", e.addr)
	}
	// Ejected endpoints are skipped, unless all are ejected.
	bb.ejectedUntil.Store(now + 1)
	for range 6 {
		if e := b.pick(route.RoundRobin, nil, now); e == bb {
			t.Fatal("picked the ejected endpoint")
		}
	}
	a.ejectedUntil.Store(now + 5)
	c.ejectedUntil.Store(now + 3)
	if e := b.pick(route.RoundRobin, nil, now); e != bb {
		t.Fatalf("all ejected: picked %v, want the one ejected soonest to end", e.addr)
	}
	a.ejectedUntil.Store(0)
	bb.ejectedUntil.Store(0)
	c.ejectedUntil.Store(0)
	// Least request prefers the fewest outstanding.
	a.outstanding.Store(3)
	bb.outstanding.Store(1)
	c.outstanding.Store(2)
	for range 3 {
		if e := b.pick(route.LeastRequest, nil, now); e != bb {
			t.Fatalf("least request picked %v", e.addr)
		}
	}
	if b.sticky(c.hash, now) != c || b.sticky("nope", now) != nil {
		t.Fatal("sticky lookup")
	}
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}

func TestServeNeedsAListener(t *testing.T) {
	p, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Serve(t.Context(), nil, nil); err == nil {
		t.Fatal("Serve without listeners: no error")
	}
}

func TestGatewayErrorsEject(t *testing.T) {
	p, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	e := p.endpoints.get("127.0.0.1:1")
	st := &reqState{ri: &routeInfo{upstream: p.metrics.noRoute}}
	for i := range ejectAfter {
		resp := &http.Response{StatusCode: http.StatusServiceUnavailable, Body: http.NoBody}
		if _, err := p.upstream.received(st, e, resp, time.Now()); err != nil {
			t.Fatal(err)
		}
		if ejected := e.ejected(time.Now().UnixNano()); ejected != (i == ejectAfter-1) {
			t.Fatalf("after %d upstream 503s ejected=%v", i+1, ejected)
		}
	}
	if n := counterValue(t, p.metrics.ejections); n != 1 {
		t.Fatalf("ejections %v, want 1", n)
	}
}
