// Package dnstest holds helpers for testing DNS handlers: a Recorder that
// stands in for the server's ResponseWriter, and servers on loopback.
package dnstest

import (
	"fmt"
	"net"
	"sync"

	"github.com/miekg/dns"
)

// Recorder is a dns.ResponseWriter that keeps the last reply written. Its
// zero value is a UDP client at 127.0.0.1:40000; set Remote to a
// *net.TCPAddr to look like a TCP client.
type Recorder struct {
	Remote net.Addr

	mu     sync.Mutex
	Msg    *dns.Msg
	writes int
}

// NewRecorder returns a Recorder for a client at remote (nil: UDP loopback).
func NewRecorder(remote net.Addr) *Recorder { return &Recorder{Remote: remote} }

// Reply returns the last message written and the number of writes.
func (r *Recorder) Reply() (*dns.Msg, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.Msg, r.writes
}

// LocalAddr is 127.0.0.1:53 over the client's transport.
func (r *Recorder) LocalAddr() net.Addr {
	if _, ok := r.RemoteAddr().(*net.TCPAddr); ok {
		return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}
	}
	return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}
}

// RemoteAddr is Remote, or 127.0.0.1:40000/udp.
func (r *Recorder) RemoteAddr() net.Addr {
	if r.Remote != nil {
		return r.Remote
	}
	return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
}

// WriteMsg records m.
func (r *Recorder) WriteMsg(m *dns.Msg) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Msg = m
	r.writes++
	return nil
}

// Write unpacks b and records it.
func (r *Recorder) Write(b []byte) (int, error) {
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		return 0, fmt.Errorf("recorder: unpack reply: %w", err)
	}
	return len(b), r.WriteMsg(m)
}

// Close does nothing.
func (r *Recorder) Close() error { return nil }

// TsigStatus returns nil.
func (r *Recorder) TsigStatus() error { return nil }

// TsigTimersOnly does nothing.
func (r *Recorder) TsigTimersOnly(bool) {}

// Hijack does nothing.
func (r *Recorder) Hijack() {}

// Discard is a ResponseWriter that drops what is written; benchmarks use it.
type Discard struct{ Recorder }

// WriteMsg drops m.
func (*Discard) WriteMsg(*dns.Msg) error { return nil }
