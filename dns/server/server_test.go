package server

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestPlainAnswer(t *testing.T) {
	r := start(t, nil)
	for _, proto := range []string{"udp", "tcp"} {
		resp := exchange(t, r, proto, query("www.example.org.", dns.TypeA))
		if resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 1 || !resp.Response || !resp.Authoritative {
			t.Errorf("%s: reply %v", proto, resp)
		}
		if resp.IsEdns0() != nil {
			t.Errorf("%s: OPT in reply to a query without one", proto)
		}
	}
}

func TestEDNS0Mirrored(t *testing.T) {
	r := start(t, nil)
	tests := []struct {
		name   string
		qname  string
		edns   bool
		do     bool
		option bool
	}{
		{name: "no OPT in query, handler adds one", qname: "opt.example.", edns: false},
		{name: "OPT without DO", qname: "a.example.", edns: true},
		{name: "OPT with DO", qname: "a.example.", edns: true, do: true},
		{name: "options not copied", qname: "opt.example.", edns: true, do: true, option: true},
	}
	for _, tt := range tests {
		for _, proto := range []string{"udp", "tcp"} {
			q := query(tt.qname, dns.TypeA)
			if tt.edns {
				q.SetEdns0(4096, tt.do)
				if tt.option {
					o := q.IsEdns0()
					o.Option = append(o.Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
				}
			}
			resp := exchange(t, r, proto, q)
			o := resp.IsEdns0()
			if !tt.edns {
				if o != nil {
					t.Errorf("%s/%s: OPT in reply", tt.name, proto)
				}
				continue
			}
			if o == nil {
				t.Fatalf("%s/%s: no OPT in reply", tt.name, proto)
			}
			if o.UDPSize() != ourUDPSize || o.Do() != tt.do || len(o.Option) != 0 || o.Version() != 0 {
				t.Errorf("%s/%s: OPT %v, want size %d do=%v and no options", tt.name, proto, o, ourUDPSize, tt.do)
			}
		}
	}
}

func TestTruncation(t *testing.T) {
	r := start(t, nil)
	tests := []struct {
		name      string
		proto     string
		edns      uint16
		wantTC    bool
		wantFull  bool
		wantUnder int
	}{
		{name: "udp without EDNS0", proto: "udp", wantTC: true, wantUnder: 512},
		{name: "udp EDNS0 1232", proto: "udp", edns: 1232, wantTC: true, wantUnder: 1232},
		{name: "udp EDNS0 below 512 counts as 512", proto: "udp", edns: 100, wantTC: true, wantUnder: 512},
		{name: "udp EDNS0 4096", proto: "udp", edns: 4096, wantFull: true},
		{name: "tcp", proto: "tcp", wantFull: true},
	}
	for _, tt := range tests {
		q := query("big.example.", dns.TypeA)
		if tt.edns != 0 {
			q.SetEdns0(tt.edns, false)
		}
		resp, size := exchange(t, r, tt.proto, q), 0
		if tt.proto == "udp" {
			raw := rawUDP(t, r.addr("udp"), pack(t, q), 2*time.Second)
			size = len(raw)
		}
		if resp.Truncated != tt.wantTC {
			t.Errorf("%s: TC=%v, want %v", tt.name, resp.Truncated, tt.wantTC)
		}
		if tt.wantFull && len(resp.Answer) != 100 {
			t.Errorf("%s: %d answers, want 100", tt.name, len(resp.Answer))
		}
		if tt.wantUnder > 0 {
			if size == 0 || size > tt.wantUnder {
				t.Errorf("%s: reply of %d bytes, want at most %d", tt.name, size, tt.wantUnder)
			}
			if len(resp.Answer) >= 100 {
				t.Errorf("%s: all answers in a truncated reply", tt.name)
			}
		}
		if (tt.edns != 0) != (resp.IsEdns0() != nil) {
			t.Errorf("%s: OPT in reply %v, want %v", tt.name, resp.IsEdns0() != nil, tt.edns != 0)
		}
	}
}

func TestErrorReplies(t *testing.T) {
	r := start(t, nil)
	tests := []struct {
		qname   string
		rcode   int
		wantErr bool
	}{
		{qname: "servfail.example.", rcode: dns.RcodeServerFailure},
		{qname: "refused.example.", rcode: dns.RcodeRefused},
		{qname: "nowrite.example.", rcode: dns.RcodeServerFailure, wantErr: true},
		{qname: "error.example.", rcode: dns.RcodeServerFailure, wantErr: true},
		{qname: "panic.example.", rcode: dns.RcodeServerFailure},
		{qname: "twice.example.", rcode: dns.RcodeSuccess},
	}
	for _, tt := range tests {
		for _, proto := range []string{"udp", "tcp"} {
			q := query(tt.qname, dns.TypeAAAA)
			q.SetEdns0(1232, true)
			resp := exchange(t, r, proto, q)
			if resp.Rcode != tt.rcode {
				t.Errorf("%s/%s: rcode %s, want %s", tt.qname, proto, dns.RcodeToString[resp.Rcode], dns.RcodeToString[tt.rcode])
			}
			if len(resp.Question) != 1 || resp.Question[0] != q.Question[0] || !resp.RecursionDesired {
				t.Errorf("%s/%s: question %v RD=%v not echoed", tt.qname, proto, resp.Question, resp.RecursionDesired)
			}
			if o := resp.IsEdns0(); o == nil || !o.Do() {
				t.Errorf("%s/%s: OPT not mirrored on error reply", tt.qname, proto)
			}
			if tt.wantErr {
				if err := <-r.errs; err == nil {
					t.Errorf("%s/%s: no error reported", tt.qname, proto)
				}
			}
		}
	}
	if n := counterValue(r.s.m.panics); n != 2 {
		t.Errorf("panics counted %v, want 2", n)
	}
	// the "error." handler's error reaches the reporter as it is
	select {
	case err := <-r.errs:
		t.Errorf("unexpected error reported: %v", err)
	default:
	}
}

// An extended rcode needs an OPT; without one in the query the client
// could not read it, so it becomes SERVFAIL.
func TestExtendedRcode(t *testing.T) {
	r := start(t, nil)
	for _, edns := range []bool{true, false} {
		q := query("ext.example.", dns.TypeA)
		want := dns.RcodeServerFailure
		if edns {
			q.SetEdns0(1232, false)
			want = dns.RcodeBadCookie
		}
		if resp := exchange(t, r, "udp", q); resp.Rcode != want {
			t.Errorf("edns=%v: rcode %s, want %s", edns, dns.RcodeToString[resp.Rcode], dns.RcodeToString[want])
		}
	}
}

// The UDP path of wildcard addresses (destination address from packet
// info), exercised on 127.0.0.1.
func TestUDPSessionPath(t *testing.T) {
	r := startWith(t, nil, func(s *Server) { s.pktinfo = true })
	for _, name := range []string{"a.example.", "big.example."} {
		q := query(name, dns.TypeA)
		q.SetEdns0(4096, false)
		resp := exchange(t, r, "udp", q)
		if resp.Rcode != dns.RcodeSuccess || len(resp.Answer) == 0 || resp.Truncated {
			t.Errorf("%s: %v", name, resp)
		}
	}
}

// A slow handler does not hold up other queries on the UDP socket.
func TestUDPSlowHandlersConcurrent(t *testing.T) {
	r := start(t, nil)
	const n = 20
	errs := make(chan error, n)
	begin := time.Now()
	for range n {
		go func() {
			c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
			_, _, err := c.Exchange(query("slow.example.", dns.TypeA), r.addr("udp"))
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if d := time.Since(begin); d > time.Second {
		t.Errorf("%d slow queries took %v: served one after another", n, d)
	}
}

// Handlers may write packed replies; one too long for the client is
// unpacked and truncated like any other.
func TestRawWrite(t *testing.T) {
	r := start(t, nil)
	tests := []struct {
		qname   string
		proto   string
		answers int
		tc      bool
	}{
		{qname: "raw.example.", proto: "udp", answers: 1},
		{qname: "rawbig.example.", proto: "udp", tc: true},
		{qname: "rawbig.example.", proto: "tcp", answers: 100},
	}
	for _, tt := range tests {
		resp := exchange(t, r, tt.proto, query(tt.qname, dns.TypeA))
		if resp.Truncated != tt.tc || (tt.answers > 0 && len(resp.Answer) != tt.answers) {
			t.Errorf("%s/%s: TC=%v %d answers", tt.qname, tt.proto, resp.Truncated, len(resp.Answer))
		}
	}
	raw := rawUDP(t, r.addr("udp"), pack(t, query("rawbig.example.", dns.TypeA)), 2*time.Second)
	if len(raw) == 0 || len(raw) > dns.MinMsgSize {
		t.Errorf("raw reply of %d bytes over UDP without EDNS0", len(raw))
	}
}
