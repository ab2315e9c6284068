package server

import (
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	dnslog "rudder/dns/log"
	"rudder/dns/metrics"
	"rudder/dns/plugin"
)

// The server with the metrics, errors and query-log handlers in front:
// error replies are written once, by the metrics handler, and counted.
func TestChainWithMetricsAndLog(t *testing.T) {
	logged := &lockedBuffer{}
	logger := slog.New(slog.NewTextHandler(logged, nil))
	reg := prometheus.NewRegistry()
	m, err := metrics.New(metrics.Config{Server: "dns://test", Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	errs := dnslog.NewErrors(dnslog.ErrorsConfig{Logger: logger})
	chain := plugin.Chain(m.Plugin(), errs.Plugin(), dnslog.Queries(dnslog.QueryConfig{Logger: logger}),
		func(plugin.Handler) plugin.Handler { return testHandler() })
	r := start(t, func(c *Config) {
		c.Handler = chain
		c.Errors = errs
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	})
	for _, name := range []string{"refused.example.", "error.example.", "a.example."} {
		for _, proto := range []string{"udp", "tcp"} {
			exchange(t, r, proto, query(name, dns.TypeA))
		}
	}
	// replies are counted after they are sent: wait for the last ones
	var got map[string]float64
	deadline := time.Now().Add(2 * time.Second)
	for {
		got = responses(t, reg)
		if got["NOERROR"]+got["REFUSED"]+got["SERVFAIL"] >= 6 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got["REFUSED"] != 2 || got["SERVFAIL"] != 2 || got["NOERROR"] != 2 {
		t.Errorf("responses by rcode %v", got)
	}
	out := logged.String()
	if strings.Count(out, "dns query failed") != 1 || !strings.Contains(out, "test handler failed") {
		t.Errorf("error log:\n%s", out)
	}
	if strings.Count(out, "msg=\"dns query\"") != 6 {
		t.Errorf("query log:\n%s", out)
	}
}

func responses(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "rudder_dns_responses_total" {
			continue
		}
		for _, mm := range mf.GetMetric() {
			for _, l := range mm.GetLabel() {
				if l.GetName() == "rcode" {
					got[l.GetValue()] = mm.GetCounter().GetValue()
				}
			}
		}
	}
	return got
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
