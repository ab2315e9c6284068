package server

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func frame(b []byte) []byte {
	out := binary.BigEndian.AppendUint16(nil, uint16(len(b)))
	return append(out, b...)
}

func dialTCP(t *testing.T, r *running) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", r.addr("tcp"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func readReply(c net.Conn, wait time.Duration) (*dns.Msg, error) {
	_ = c.SetReadDeadline(time.Now().Add(wait))
	var hdr [2]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint16(hdr[:]))
	if _, err := io.ReadFull(c, b); err != nil {
		return nil, err
	}
	m := new(dns.Msg)
	return m, m.Unpack(b)
}

// expectClosed waits for the server to close c (EOF or reset, not our
// own timeout).
func expectClosed(t *testing.T, c net.Conn, within time.Duration, name string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(within))
	buf := make([]byte, 512)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Errorf("%s: connection still open after %v", name, within)
		}
		return
	}
}

// waitNoConns checks that every connection goroutine has ended.
func waitNoConns(t *testing.T, r *running) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		r.s.mu.Lock()
		n := len(r.s.conns)
		r.s.mu.Unlock()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d tcp connections still tracked", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTCPPipelined(t *testing.T) {
	r := start(t, nil)
	c := dialTCP(t, r)
	var out []byte
	var ids []uint16
	for _, name := range []string{"a.example.", "big.example.", "servfail.example."} {
		q := query(name, dns.TypeA)
		ids = append(ids, q.Id)
		out = append(out, frame(pack(t, q))...)
	}
	if _, err := c.Write(out); err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		m, err := readReply(c, 2*time.Second)
		if err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		if m.Id != id {
			t.Errorf("reply %d: id %d, want %d", i, m.Id, id)
		}
	}
	if m, _ := readReply(c, 2*time.Second); m != nil {
		t.Errorf("extra reply %v", m)
	}
}

func TestTCPBadFrames(t *testing.T) {
	r := start(t, nil)
	garbage := []byte{0xde, 0xad, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff}
	resp := query("a.example.", dns.TypeA)
	resp.Response = true
	tests := []struct {
		name      string
		send      []byte
		wantReply int // rcode of a reply before the close, -1 for none
	}{
		{name: "zero-length frame", send: []byte{0, 0}, wantReply: -1},
		{name: "frame shorter than a header", send: frame([]byte{1, 2, 3, 4, 5}), wantReply: -1},
		{name: "length larger than what arrives", send: append([]byte{0x01, 0xf4}, make([]byte, 20)...), wantReply: -1},
		{name: "half a length prefix", send: []byte{0x01}, wantReply: -1},
		{name: "garbage", send: frame(garbage), wantReply: dns.RcodeFormatError},
		{name: "response", send: frame(pack(t, resp)), wantReply: -1},
		{name: "two questions", send: frame([]byte{0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0}), wantReply: dns.RcodeFormatError},
	}
	for _, tt := range tests {
		c := dialTCP(t, r)
		if _, err := c.Write(tt.send); err != nil {
			t.Fatal(err)
		}
		if tt.wantReply >= 0 {
			m, err := readReply(c, 2*time.Second)
			if err != nil || m.Rcode != tt.wantReply {
				t.Errorf("%s: reply %v err %v, want rcode %d", tt.name, m, err, tt.wantReply)
			}
		}
		expectClosed(t, c, 2*time.Second, tt.name)
		if m := exchange(t, r, "tcp", query("after.example.", dns.TypeA)); m.Rcode != dns.RcodeSuccess {
			t.Fatalf("after %s: rcode %d", tt.name, m.Rcode)
		}
	}
	waitNoConns(t, r)
}

// NOTIMP and BADVERS are protocol answers: the connection stays usable.
func TestTCPKeepsConnAfterNotImp(t *testing.T) {
	r := start(t, nil)
	c := dialTCP(t, r)
	q := query("a.example.", dns.TypeSOA)
	q.Opcode = dns.OpcodeUpdate
	if _, err := c.Write(append(frame(pack(t, q)), frame(pack(t, query("a.example.", dns.TypeA)))...)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []int{dns.RcodeNotImplemented, dns.RcodeSuccess} {
		m, err := readReply(c, 2*time.Second)
		if err != nil || m.Rcode != want {
			t.Fatalf("reply %v err %v, want rcode %d", m, err, want)
		}
	}
}

func TestTCPTimeouts(t *testing.T) {
	r := start(t, func(c *Config) { c.MaxTCPQueries = 2 })
	// silent client: closed after ReadTimeout (300 ms)
	c := dialTCP(t, r)
	start := time.Now()
	expectClosed(t, c, 2*time.Second, "silent client")
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("closed after %v, before ReadTimeout", d)
	}
	// idle after one query: closed after IdleTimeout (500 ms)
	c = dialTCP(t, r)
	if _, err := c.Write(frame(pack(t, query("a.example.", dns.TypeA)))); err != nil {
		t.Fatal(err)
	}
	if _, err := readReply(c, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	expectClosed(t, c, 2*time.Second, "idle client")
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Errorf("closed after %v, before IdleTimeout", d)
	}
	// MaxTCPQueries: the third query is not answered
	c = dialTCP(t, r)
	var out []byte
	for range 3 {
		out = append(out, frame(pack(t, query("a.example.", dns.TypeA)))...)
	}
	if _, err := c.Write(out); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if _, err := readReply(c, 2*time.Second); err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
	}
	expectClosed(t, c, 2*time.Second, "after MaxTCPQueries")
	waitNoConns(t, r)
}

func TestTCPMaxConns(t *testing.T) {
	r := start(t, func(c *Config) { c.MaxTCPConns = 1 })
	c := dialTCP(t, r)
	if _, err := c.Write(frame(pack(t, query("a.example.", dns.TypeA)))); err != nil {
		t.Fatal(err)
	}
	if _, err := readReply(c, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	c2 := dialTCP(t, r)
	expectClosed(t, c2, 2*time.Second, "connection over MaxTCPConns")
}
