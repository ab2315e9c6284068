package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestGracefulShutdown(t *testing.T) {
	r := start(t, nil)
	udp, tcp := r.addr("udp"), r.addr("tcp")
	got := make(chan *dns.Msg, 2)
	for _, proto := range []string{"udp", "tcp"} {
		go func() {
			c := &dns.Client{Net: proto, Timeout: 2 * time.Second}
			m, _, err := c.Exchange(query("slow.example.", dns.TypeA), r.addr(proto))
			if err != nil {
				t.Errorf("%s in-flight query: %v", proto, err)
			}
			got <- m
		}()
	}
	time.Sleep(50 * time.Millisecond) // both queries are in the handler
	r.stop(t)
	for range 2 {
		if m := <-got; m == nil || m.Rcode != dns.RcodeSuccess {
			t.Errorf("in-flight query got %v", m)
		}
	}
	if r.s.Ready() {
		t.Error("Ready after shutdown")
	}
	c := &dns.Client{Net: "tcp", Timeout: 300 * time.Millisecond}
	if _, _, err := c.Exchange(query("a.example.", dns.TypeA), tcp); err == nil {
		t.Error("tcp still answers after shutdown")
	}
	c.Net = "udp"
	if _, _, err := c.Exchange(query("a.example.", dns.TypeA), udp); err == nil {
		t.Error("udp still answers after shutdown")
	}
}

func get(h http.Handler, path string) (int, string) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

func TestHealthAndReady(t *testing.T) {
	var synced atomic.Bool
	s, err := New(Config{Addrs: []string{"127.0.0.1:0"}, Handler: testHandler()})
	if err != nil {
		t.Fatal(err)
	}
	h := s.HealthHandler()
	if code, _ := get(h, "/health"); code != http.StatusServiceUnavailable {
		t.Errorf("/health before Serve: %d", code)
	}
	r := start(t, func(c *Config) { c.Lameduck = 300 * time.Millisecond })
	r.s.AddReady("kubernetes", synced.Load)
	h = r.s.HealthHandler()
	if code, _ := get(h, "/health"); code != http.StatusOK {
		t.Errorf("/health while serving: %d", code)
	}
	if code, body := get(h, "/ready"); code != http.StatusServiceUnavailable || !strings.Contains(body, "kubernetes") {
		t.Errorf("/ready before sync: %d %q", code, body)
	}
	synced.Store(true)
	if code, _ := get(h, "/ready"); code != http.StatusOK {
		t.Errorf("/ready after sync: %d", code)
	}

	r.cancel() // lameduck: 503 on /health, DNS still answers
	deadline := time.Now().Add(time.Second)
	for r.s.Ready() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	for _, p := range []string{"/health", "/ready"} {
		if code, _ := get(h, p); code != http.StatusServiceUnavailable {
			t.Errorf("%s in lameduck: %d", p, code)
		}
	}
	if m := exchange(t, r, "udp", query("a.example.", dns.TypeA)); m.Rcode != dns.RcodeSuccess {
		t.Errorf("query in lameduck: %v", m)
	}
	select {
	case err := <-r.done:
		t.Errorf("Serve returned during lameduck: %v", err)
		r.done <- err
	default:
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{Handler: testHandler()},
		{Addrs: []string{"127.0.0.1:0"}},
		{Addrs: []string{"no-port"}, Handler: testHandler()},
		{Addrs: []string{"127.0.0.1:0"}, Handler: testHandler(), Lameduck: -1},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
}

func TestListenError(t *testing.T) {
	r := start(t, nil)
	s, err := New(Config{Addrs: []string{r.addr("udp")}, Handler: testHandler()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(t.Context()); err == nil {
		t.Error("Serve on a taken port succeeded")
	}
}
