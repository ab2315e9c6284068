package server

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/miekg/dns"

	"rudder/dns/plugin"
)

// ourUDPSize is the EDNS0 buffer size we advertise (the DNS flag day 2020
// value, which avoids IP fragmentation).
const ourUDPSize = 1232

// readBufSize is the largest UDP query read; longer ones are cut and fail
// to parse (queries are small; 4096 is the common EDNS0 maximum).
const readBufSize = 4096

// errSecondWrite is returned when a handler writes a second reply.
var errSecondWrite = errors.New("second reply to one query")

type transport uint8

const (
	udpFast    transport = iota // bound to one address: no control messages
	udpSession                  // wildcard address: replies leave from the query's destination address
	tcpConn
	capture // tests and the fuzz target: replies are kept in out
)

// writer is the dns.ResponseWriter every handler gets. It mirrors EDNS0,
// truncates to the client's size and sends one reply. A writer is reused
// for the next query of its reader goroutine (UDP) or connection (TCP):
// it, its RemoteAddr and the bytes it read must not be used after
// ServeDNS returns.
type writer struct {
	s       *Server
	kind    transport
	udp     *net.UDPConn
	session *dns.SessionUDP
	peer    netip.AddrPort
	uaddr   net.UDPAddr
	addrSet bool
	ip      [16]byte
	tcp     net.Conn
	out     []byte // capture: the last reply

	req     *dns.Msg
	qbytes  int
	written bool
	close   bool // TCP: close the connection after this query
	nbytes  int

	opt   dns.OPT
	extra []dns.RR
	in    []byte // read buffer
	buf   []byte // pack buffer; TCP keeps two bytes in front for the length
}

func newWriter(s *Server, kind transport) *writer {
	w := &writer{s: s, kind: kind, in: make([]byte, readBufSize), buf: make([]byte, readBufSize+2), extra: make([]dns.RR, 0, 4)}
	if kind == capture {
		w.uaddr = net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5353}
	}
	return w
}

// reset prepares a writer for the next query.
func (w *writer) reset() {
	w.req, w.qbytes, w.written, w.close, w.nbytes, w.session, w.addrSet = nil, 0, false, false, 0, nil, false
}

// WrittenBytes is the size of the reply on the wire (without the TCP
// length prefix), 0 before it is written. dns/metrics and dns/log read it.
func (w *writer) WrittenBytes() int { return w.nbytes }

// QueryBytes is the size of the query on the wire.
func (w *writer) QueryBytes() int { return w.qbytes }

// Written tells whether the reply has been written.
func (w *writer) Written() bool { return w.written }

// LocalAddr is the listening address.
func (w *writer) LocalAddr() net.Addr {
	switch w.kind {
	case tcpConn:
		return w.tcp.LocalAddr()
	case capture:
		return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}
	}
	return w.udp.LocalAddr()
}

// RemoteAddr is the client: a *net.UDPAddr or a *net.TCPAddr. It belongs
// to the writer and is valid only while the query is served.
func (w *writer) RemoteAddr() net.Addr {
	switch w.kind {
	case tcpConn:
		return w.tcp.RemoteAddr()
	case udpSession:
		return w.session.RemoteAddr()
	case capture:
		return &w.uaddr
	}
	if !w.addrSet {
		w.setUDPAddr()
		w.addrSet = true
	}
	return &w.uaddr
}

func (w *writer) setUDPAddr() {
	a := w.peer.Addr()
	w.uaddr.Port = int(w.peer.Port())
	w.uaddr.Zone = a.Zone()
	w.ip = a.As16()
	if a.Is4() || a.Is4In6() {
		w.uaddr.IP = net.IP(w.ip[12:16])
	} else {
		w.uaddr.IP = net.IP(w.ip[:])
	}
}

// WriteMsg scrubs m and sends it. m itself is not modified.
func (w *writer) WriteMsg(m *dns.Msg) error {
	if w.written {
		w.s.log.Warn("handler wrote a second reply", "qname", qname(w.req), "err", errSecondWrite)
		return errSecondWrite
	}
	w.written = true
	wire, err := w.pack(m)
	if err != nil {
		w.s.report(w.req, fmt.Errorf("pack reply: %w", err))
		e := new(dns.Msg)
		e.SetRcode(w.req, dns.RcodeServerFailure)
		if wire, err = w.pack(e); err != nil {
			return fmt.Errorf("pack SERVFAIL reply: %w", err)
		}
	}
	return w.send(wire)
}

// Write sends a packed reply as it is, unless it is longer than the
// client takes: then it is unpacked and scrubbed like WriteMsg.
func (w *writer) Write(b []byte) (int, error) {
	if w.written {
		w.s.log.Warn("handler wrote a second reply", "qname", qname(w.req), "err", errSecondWrite)
		return 0, errSecondWrite
	}
	if len(b) <= w.size() {
		w.written = true
		w.copyOut(b)
		return len(b), w.send(w.buf[2 : 2+len(b)])
	}
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		return 0, fmt.Errorf("unpack oversized raw reply: %w", err)
	}
	return len(b), w.WriteMsg(m)
}

func (w *writer) copyOut(b []byte) {
	if cap(w.buf) < len(b)+2 {
		w.buf = make([]byte, len(b)+2)
	}
	w.buf = w.buf[:cap(w.buf)]
	copy(w.buf[2:], b)
}

// size is the largest reply the client takes.
func (w *writer) size() int {
	if w.req == nil {
		return dns.MinMsgSize
	}
	return plugin.NewRequest(w, w.req).Size()
}

// pack mirrors the query's EDNS0 into a shallow copy of m, truncates it
// to the client's size (setting TC) and packs it into w.buf[2:].
func (w *writer) pack(m *dns.Msg) ([]byte, error) {
	out := *m
	w.extra = w.extra[:0]
	for _, rr := range m.Extra {
		if rr != nil && rr.Header().Rrtype != dns.TypeOPT {
			w.extra = append(w.extra, rr)
		}
	}
	if w.req != nil {
		if qo := w.req.IsEdns0(); qo != nil {
			w.opt = dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT, Class: ourUDPSize}}
			w.opt.SetDo(qo.Do())
			w.extra = append(w.extra, &w.opt)
		}
	}
	out.Extra = w.extra
	hasOpt := len(w.extra) > 0 && w.extra[len(w.extra)-1] == dns.RR(&w.opt)
	if out.Rcode > 0xF && !hasOpt {
		out.Rcode = dns.RcodeServerFailure // an extended rcode needs an OPT the client did not send
	}
	out.Truncate(w.size())
	wire, err := out.PackBuffer(w.buf[2:cap(w.buf)])
	if err != nil {
		return nil, err
	}
	if len(wire) > 0 && &wire[0] != &w.buf[2] {
		w.copyOut(wire) // PackBuffer grew: keep the prefix room
		wire = w.buf[2 : 2+len(wire)]
	}
	return wire, nil
}

// send writes wire, which starts at w.buf[2].
func (w *writer) send(wire []byte) error {
	w.nbytes = len(wire)
	var err error
	switch w.kind {
	case udpFast:
		_, err = w.udp.WriteToUDPAddrPort(wire, w.peer)
	case udpSession:
		_, err = dns.WriteToSessionUDP(w.udp, wire, w.session)
	case tcpConn:
		binary.BigEndian.PutUint16(w.buf, uint16(len(wire)))
		if err = w.tcp.SetWriteDeadline(time.Now().Add(w.s.cfg.WriteTimeout)); err == nil {
			_, err = w.tcp.Write(w.buf[:2+len(wire)])
		}
		if err != nil {
			w.close = true
		}
	case capture:
		w.out = append(w.out[:0], wire...)
	}
	if err != nil {
		return fmt.Errorf("send reply: %w", err)
	}
	return nil
}

// Close closes a TCP connection after this query; it does nothing for UDP.
func (w *writer) Close() error {
	if w.kind == tcpConn {
		w.close = true
	}
	return nil
}

// TsigStatus is nil: the server does not verify TSIG.
func (w *writer) TsigStatus() error { return nil }

// TsigTimersOnly does nothing.
func (w *writer) TsigTimersOnly(bool) {}

// Hijack is not supported and does nothing.
func (w *writer) Hijack() {}

func qname(m *dns.Msg) string {
	if m == nil || len(m.Question) == 0 {
		return "."
	}
	return m.Question[0].Name
}
