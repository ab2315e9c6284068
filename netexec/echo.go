package netexec

import (
	"bufio"
	"errors"
	"net"
	"strings"
	"time"
)

// maxLine bounds one TCP echo line.
const maxLine = 64 << 10

// reply answers one UDP datagram or TCP line: "hostname" gives the
// hostname, "clientip" the peer's ip:port, "echo X" gives X; anything else
// is echoed back unchanged.
func (s *Server) reply(msg []byte, peer net.Addr) []byte {
	cmd := strings.TrimSpace(string(msg))
	switch {
	case cmd == "hostname":
		return []byte(s.hostname)
	case cmd == "clientip":
		return []byte(peer.String())
	case strings.HasPrefix(cmd, "echo "):
		return []byte(strings.TrimPrefix(cmd, "echo "))
	}
	return msg
}

func (s *Server) serveUDP() {
	buf := make([]byte, 64<<10)
	for {
		n, peer, err := s.udp.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("udp echo: read", "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		out := s.reply(buf[:n], peer)
		s.log.Debug("udp request", "client", peer.String(), "bytes", n)
		if _, err := s.udp.WriteTo(out, peer); err != nil {
			s.log.Warn("udp echo: reply", "client", peer.String(), "err", err)
		}
	}
}

func (s *Server) serveTCP() {
	for {
		c, err := s.tcpLn.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("tcp echo: accept", "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if !s.track(c) {
			_ = c.Close()
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.untrack(c)
			s.echoConn(c)
		}()
	}
}

// track records an open echo connection; false once the server is closing.
func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.echoClosed {
		return false
	}
	s.tcpConns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.tcpConns, c)
	s.mu.Unlock()
	_ = c.Close()
}

// echoConn answers each line of a TCP connection until EOF.
func (s *Server) echoConn(c net.Conn) {
	peer := c.RemoteAddr()
	sc := bufio.NewScanner(c)
	sc.Buffer(make([]byte, 4096), maxLine)
	w := bufio.NewWriter(c)
	for sc.Scan() {
		s.log.Debug("tcp request", "client", peer.String(), "bytes", len(sc.Bytes()))
		_, _ = w.Write(s.reply(sc.Bytes(), peer))
		_ = w.WriteByte('\n')
		if err := w.Flush(); err != nil {
			s.log.Debug("tcp echo: reply", "client", peer.String(), "err", err)
			return
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, net.ErrClosed) {
		s.log.Debug("tcp echo: read", "client", peer.String(), "err", err)
	}
}
