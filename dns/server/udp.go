package server

import (
	"net"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// maxUDPReaders bounds the goroutines serving one UDP socket, and with
// it the queries in flight on it.
const maxUDPReaders = 4096

// udpLoop serves one UDP socket with a self-sizing set of readers: each
// reads a query and serves it itself, and starts another reader first
// when no other one is waiting to read, so that a slow handler never
// holds up the socket. Readers beyond a few idle ones exit. This avoids
// a goroutine per packet.
type udpLoop struct {
	s       *Server
	c       *net.UDPConn
	kind    transport
	idle    atomic.Int32 // readers waiting to read
	readers atomic.Int32
	maxIdle int32
}

func (s *Server) serveUDPConn(c *net.UDPConn) {
	l := &udpLoop{s: s, c: c, kind: udpFast, maxIdle: int32(2 * runtime.GOMAXPROCS(0))}
	if s.pktinfo || wildcard(c) {
		l.kind = udpSession
	}
	l.spawn()
}

func (l *udpLoop) spawn() {
	l.readers.Add(1)
	l.s.workers.Add(1)
	go l.read()
}

func (l *udpLoop) read() {
	defer l.s.workers.Done()
	defer l.readers.Add(-1)
	w := newWriter(l.s, l.kind)
	w.udp = l.c
	for {
		w.reset()
		l.idle.Add(1)
		n, err := l.readOne(w)
		idle := l.idle.Add(-1)
		if err != nil {
			if l.s.isClosed(err) {
				return
			}
			l.s.log.Warn("dns udp read failed", "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if idle == 0 && l.readers.Load() < maxUDPReaders {
			l.spawn()
		}
		l.s.serveRaw(w.in[:n], w)
		if l.idle.Load() >= l.maxIdle {
			return
		}
	}
}

func (l *udpLoop) readOne(w *writer) (n int, err error) {
	if l.kind == udpSession {
		n, w.session, err = dns.ReadFromSessionUDP(l.c, w.in)
		return n, err
	}
	n, w.peer, err = l.c.ReadFromUDPAddrPort(w.in)
	return n, err
}
