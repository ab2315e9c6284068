package server

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"time"
)

// acceptTCP accepts connections until shutdown.
func (s *Server) acceptTCP(l net.Listener) {
	defer s.workers.Done()
	for {
		c, err := l.Accept()
		if err != nil {
			if s.isClosed(err) {
				return
			}
			s.log.Warn("dns tcp accept failed", "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if !s.track(c) {
			_ = c.Close()
			continue
		}
		go s.serveConn(c)
	}
}

// track registers a connection for shutdown; false when there are too
// many or the server is stopping.
func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping.Load() || len(s.conns) >= s.cfg.MaxTCPConns {
		s.m.tcpRejected.Inc()
		return false
	}
	s.conns[c] = struct{}{}
	s.workers.Add(1)
	return true
}

func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	_ = c.Close()
	s.workers.Done()
}

// serveConn answers length-prefixed queries in order until the client
// closes, a frame is bad, a timeout passes or MaxTCPQueries is reached.
func (s *Server) serveConn(c net.Conn) {
	defer s.untrack(c)
	w := newWriter(s, tcpConn)
	w.tcp = c
	timeout := s.cfg.ReadTimeout
	for q := 0; s.cfg.MaxTCPQueries <= 0 || q < s.cfg.MaxTCPQueries; q++ {
		frame, err := s.readFrame(c, w, timeout)
		if err != nil {
			if !errors.Is(err, io.EOF) && !s.stopping.Load() {
				s.log.Debug("dns tcp connection closed", "client", c.RemoteAddr().String(), "err", err)
			}
			return
		}
		w.reset()
		keep := s.serveRaw(frame, w)
		w.req = nil
		if !keep || w.close {
			return
		}
		timeout = s.cfg.IdleTimeout
	}
}

// errShortFrame is a frame too short to hold a DNS header.
var errShortFrame = errors.New("tcp frame shorter than a dns header")

// readFrame reads one length-prefixed message: the prefix within
// timeout, the body within ReadTimeout.
func (s *Server) readFrame(c net.Conn, w *writer, timeout time.Duration) ([]byte, error) {
	if err := c.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return nil, err
	}
	if s.stopping.Load() { // after the deadline: shutdown's deadline in the past wins
		return nil, net.ErrClosed
	}
	var hdr [2]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint16(hdr[:]))
	if n < headerLen {
		return nil, errShortFrame
	}
	if err := c.SetReadDeadline(time.Now().Add(s.cfg.ReadTimeout)); err != nil {
		return nil, err
	}
	if cap(w.in) < n {
		w.in = make([]byte, n)
	}
	b := w.in[:n]
	if _, err := io.ReadFull(c, b); err != nil {
		return nil, err
	}
	return b, nil
}
