package metrics

import (
	"context"
	"net"
	"testing"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"rudder/dns/plugin"
)

// fakeWriter records replies; remote picks the transport and family.
type fakeWriter struct {
	remote net.Addr
	msgs   []*dns.Msg
}

func (f *fakeWriter) LocalAddr() net.Addr  { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53} }
func (f *fakeWriter) RemoteAddr() net.Addr { return f.remote }
func (f *fakeWriter) WriteMsg(m *dns.Msg) error {
	f.msgs = append(f.msgs, m)
	return nil
}
func (f *fakeWriter) Write(b []byte) (int, error) { return len(b), nil }
func (f *fakeWriter) Close() error                { return nil }
func (f *fakeWriter) TsigStatus() error           { return nil }
func (f *fakeWriter) TsigTimersOnly(bool)         {}
func (f *fakeWriter) Hijack()                     {}
func (f *fakeWriter) WrittenBytes() int           { return 99 }
func (f *fakeWriter) QueryBytes() int             { return 33 }

// answer writes rcode itself unless it is one the server writes.
func answer(rcode int) plugin.Handler {
	return plugin.HandlerFunc{N: "answer", F: func(_ context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
		if !plugin.ClientWrite(rcode) {
			return rcode, nil
		}
		m := new(dns.Msg)
		m.SetRcode(r, rcode)
		return rcode, w.WriteMsg(m)
	}}
}

func value(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if match(m, labels) {
				switch {
				case m.Counter != nil:
					return m.GetCounter().GetValue()
				case m.Histogram != nil:
					return float64(m.GetHistogram().GetSampleCount())
				}
			}
		}
	}
	return 0
}

func match(m *dto.Metric, labels map[string]string) bool {
	n := 0
	for _, lp := range m.GetLabel() {
		if v, ok := labels[lp.GetName()]; ok {
			if v != lp.GetValue() {
				return false
			}
			n++
		}
	}
	return n == len(labels)
}

func TestCounts(t *testing.T) {
	udp4 := &net.UDPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 1000}
	tcp6 := &net.TCPAddr{IP: net.ParseIP("fd00::1"), Port: 1000}
	tests := []struct {
		name   string
		remote net.Addr
		qtype  uint16
		rcode  int
		proto  string
		family string
		typ    string
		rc     string
	}{
		{name: "udp4 A NOERROR", remote: udp4, qtype: dns.TypeA, rcode: dns.RcodeSuccess, proto: "udp", family: "1", typ: "A", rc: "NOERROR"},
		{name: "tcp6 SRV NXDOMAIN", remote: tcp6, qtype: dns.TypeSRV, rcode: dns.RcodeNameError, proto: "tcp", family: "2", typ: "SRV", rc: "NXDOMAIN"},
		{name: "MX is other, REFUSED written here", remote: udp4, qtype: dns.TypeMX, rcode: dns.RcodeRefused, proto: "udp", family: "1", typ: "other", rc: "REFUSED"},
		{name: "PTR SERVFAIL written here", remote: tcp6, qtype: dns.TypePTR, rcode: dns.RcodeServerFailure, proto: "tcp", family: "2", typ: "PTR", rc: "SERVFAIL"},
	}
	for _, tt := range tests {
		reg := prometheus.NewRegistry()
		m, err := New(Config{Server: "dns://:53", Registerer: reg})
		if err != nil {
			t.Fatal(err)
		}
		h := plugin.Chain(m.Plugin(), func(plugin.Handler) plugin.Handler { return answer(tt.rcode) })
		w := &fakeWriter{remote: tt.remote}
		q := new(dns.Msg)
		q.SetQuestion("x.example.", tt.qtype)
		rc, err := h.ServeDNS(context.Background(), w, q)
		if err != nil || rc != tt.rcode {
			t.Errorf("%s: ServeDNS = %d, %v", tt.name, rc, err)
		}
		if len(w.msgs) != 1 || w.msgs[0].Rcode != tt.rcode || w.msgs[0].Id != q.Id {
			t.Errorf("%s: replies %v, want one with rcode %d", tt.name, w.msgs, tt.rcode)
		}
		checks := []struct {
			metric string
			labels map[string]string
		}{
			{"rudder_dns_requests_total", map[string]string{"server": "dns://:53", "proto": tt.proto, "family": tt.family, "type": tt.typ}},
			{"rudder_dns_responses_total", map[string]string{"server": "dns://:53", "rcode": tt.rc}},
			{"rudder_dns_request_duration_seconds", map[string]string{"type": tt.typ}},
			{"rudder_dns_response_size_bytes", map[string]string{"proto": tt.proto}},
			{"rudder_dns_request_size_bytes", map[string]string{"proto": tt.proto}},
		}
		for _, c := range checks {
			if v := value(t, reg, c.metric, c.labels); v != 1 {
				t.Errorf("%s: %s%v = %v, want 1", tt.name, c.metric, c.labels, v)
			}
		}
	}
}

func TestRegisterTwice(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := New(Config{Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{Registerer: reg}); err == nil {
		t.Error("second New on one registry succeeded")
	}
}

func BenchmarkMetrics(b *testing.B) {
	m, err := New(Config{Server: "dns://:53"})
	if err != nil {
		b.Fatal(err)
	}
	h := plugin.Chain(m.Plugin(), func(plugin.Handler) plugin.Handler { return answer(dns.RcodeSuccess) })
	w := &fakeWriter{remote: &net.UDPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 1000}}
	q := new(dns.Msg)
	q.SetQuestion("x.example.", dns.TypeA)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		w.msgs = w.msgs[:0]
		if _, err := h.ServeDNS(ctx, w, q); err != nil {
			b.Fatal(err)
		}
	}
}
