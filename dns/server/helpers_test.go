package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"rudder/dns/plugin"
)

var errTest = errors.New("test handler failed")

// testHandler answers by the first label of the question:
// big (100 A records), panic, servfail, refused, nowrite (NOERROR without
// a reply), error (SERVFAIL and an error), slow (100 ms), ext (BADCOOKIE
// rcode), twice (writes two replies), opt (adds its own OPT), raw and
// rawbig (1 and 100 records written packed with Write), anything else
// one A record.
func testHandler() plugin.Handler {
	return plugin.HandlerFunc{N: "test", F: func(_ context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
		q := r.Question[0]
		m := new(dns.Msg)
		m.SetReply(r)
		m.Authoritative = true
		n := 1
		switch strings.SplitN(strings.ToLower(q.Name), ".", 2)[0] {
		case "big", "rawbig":
			n = 100
		case "panic":
			panic("boom")
		case "servfail":
			return dns.RcodeServerFailure, nil
		case "refused":
			return dns.RcodeRefused, nil
		case "nowrite":
			return dns.RcodeSuccess, nil
		case "error":
			return dns.RcodeServerFailure, errTest
		case "slow":
			time.Sleep(100 * time.Millisecond)
		case "ext":
			m.Rcode = dns.RcodeBadCookie
		case "twice":
			if err := w.WriteMsg(m); err != nil {
				return dns.RcodeServerFailure, err
			}
			if err := w.WriteMsg(m); err == nil {
				return dns.RcodeServerFailure, errors.New("second write succeeded")
			}
			return dns.RcodeSuccess, nil
		case "opt":
			o := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
			o.SetUDPSize(4096)
			o.Option = append(o.Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID, Nsid: "abcd"})
			m.Extra = append(m.Extra, o)
		}
		for i := range n {
			m.Answer = append(m.Answer, &dns.A{
				Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 30},
				A:   net.IPv4(10, 0, byte(i>>8), byte(i)).To4(),
			})
		}
		if strings.HasPrefix(strings.ToLower(q.Name), "raw") {
			b, err := m.Pack()
			if err != nil {
				return dns.RcodeServerFailure, err
			}
			_, err = w.Write(b)
			return dns.RcodeSuccess, err
		}
		return dns.RcodeSuccess, w.WriteMsg(m)
	}}
}

type errSink struct{ errs chan error }

func (e errSink) Report(_ string, _ uint16, err error) {
	select {
	case e.errs <- err:
	default:
	}
}

type running struct {
	s      *Server
	reg    *prometheus.Registry
	errs   chan error
	cancel context.CancelFunc
	done   chan error
}

// start runs a server on 127.0.0.1:0 until the test ends.
func start(t testing.TB, mod func(*Config)) *running {
	t.Helper()
	return startWith(t, mod, nil)
}

// startWith is start with a hook on the Server before Serve.
func startWith(t testing.TB, mod func(*Config), pre func(*Server)) *running {
	t.Helper()
	reg := prometheus.NewRegistry()
	errs := make(chan error, 16)
	cfg := Config{
		Addrs: []string{"127.0.0.1:0"}, Handler: testHandler(), Registerer: reg,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Errors: errSink{errs},
		ReadTimeout: 300 * time.Millisecond, IdleTimeout: 500 * time.Millisecond,
		ShutdownTimeout: 3 * time.Second,
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if pre != nil {
		pre(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{s: s, reg: reg, errs: errs, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- s.Serve(ctx) }()
	select {
	case <-s.Started():
	case err := <-r.done:
		t.Fatalf("Serve: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("server did not start")
	}
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop ends Serve; it must return well within ShutdownTimeout, which
// shows that every reader, connection and query goroutine has ended.
func (r *running) stop(t testing.TB) {
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Serve returned %v", err)
		}
		r.done <- nil
	case <-time.After(r.s.cfg.ShutdownTimeout*2/3 + r.s.cfg.Lameduck):
		t.Error("Serve did not return before ShutdownTimeout: goroutines left")
		r.done <- <-r.done
	}
}

func (r *running) addr(proto string) string { return r.s.Addr(proto).String() }

func query(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	return m
}

func exchange(t testing.TB, r *running, proto string, m *dns.Msg) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: proto, Timeout: 2 * time.Second, UDPSize: 65535}
	resp, _, err := c.Exchange(m, r.addr(proto))
	if err != nil {
		t.Fatalf("%s exchange %s: %v", proto, m.Question[0].Name, err)
	}
	if resp.Id != m.Id {
		t.Fatalf("reply ID %d, want %d", resp.Id, m.Id)
	}
	return resp
}

// rawUDP sends b and returns the reply, or nil after wait.
func rawUDP(t testing.TB, addr string, b []byte, wait time.Duration) []byte {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 65535)
	n, err := c.Read(buf)
	if err != nil {
		return nil
	}
	return buf[:n]
}

func pack(t testing.TB, m *dns.Msg) []byte {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}
