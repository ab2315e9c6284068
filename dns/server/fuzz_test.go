package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"

	"rudder/dns/plugin"
)

// echoHandler answers one A record for any name, or leaves an even qtype
// to the server's REFUSED reply.
var echoHandler = plugin.HandlerFunc{N: "echo", F: func(_ context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	if r.Question[0].Qtype%2 == 0 {
		return dns.RcodeRefused, nil
	}
	m := new(dns.Msg)
	m.SetReply(r)
	m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 5}, A: net.IPv4(192, 0, 2, 1)}}
	return dns.RcodeSuccess, w.WriteMsg(m)
}}

// FuzzServe feeds arbitrary bytes through the UDP request path (decode,
// accept, chain, scrub, pack) and checks that any reply unpacks and is a
// response to the packet's ID.
func FuzzServe(f *testing.F) {
	for _, tt := range malformed(f) {
		f.Add(tt.b)
	}
	for _, q := range []*dns.Msg{query("a.example.", dns.TypeA), query("Big.Example.", dns.TypeAAAA), query("x.", dns.TypeSRV)} {
		f.Add(pack(f, q))
		q.SetEdns0(4096, true)
		f.Add(pack(f, q))
	}
	s, err := New(Config{Addrs: []string{"127.0.0.1:0"}, Handler: echoHandler, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		w := newWriter(s, capture)
		s.serveRaw(b, w)
		if len(w.out) == 0 {
			return
		}
		if len(b) < headerLen {
			t.Fatalf("reply to a %d-byte packet", len(b))
		}
		m := new(dns.Msg)
		if err := m.Unpack(w.out); err != nil {
			t.Fatalf("reply does not unpack: %v\n% x", err, w.out)
		}
		if !m.Response || m.Id != uint16(b[0])<<8|uint16(b[1]) {
			t.Fatalf("reply QR=%v id %d to query id %d", m.Response, m.Id, uint16(b[0])<<8|uint16(b[1]))
		}
		if len(w.out) > dns.MinMsgSize && (w.req == nil || w.req.IsEdns0() == nil) {
			t.Fatalf("%d-byte reply to a query without EDNS0", len(w.out))
		}
	})
}

// FuzzTCPStream feeds an arbitrary byte stream to one TCP connection's
// loop (framing, decode, chain, replies) and checks that it ends, without
// a panic, once the client has sent everything and closed.
func FuzzTCPStream(f *testing.F) {
	q := pack(f, query("a.example.", dns.TypeA))
	f.Add(frame(q))
	f.Add(append(frame(q), frame(q)...))
	f.Add([]byte{0, 0})
	f.Add([]byte{0xff, 0xff, 1, 2, 3})
	f.Add(append(frame(q), 0x00))
	for _, tt := range malformed(f) {
		f.Add(frame(tt.b))
	}
	s, err := New(Config{Addrs: []string{"127.0.0.1:0"}, Handler: echoHandler, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		ReadTimeout: time.Second, IdleTimeout: time.Second})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		client, srv := net.Pipe()
		if !s.track(srv) {
			t.Fatal("track refused the connection")
		}
		done := make(chan struct{})
		go func() { s.serveConn(srv); close(done) }()
		go func() { _, _ = io.Copy(io.Discard, client) }()
		_ = client.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = client.Write(b)
		_ = client.Close()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			t.Fatal("connection loop did not end after the client closed")
		}
	})
}
