package server

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// listen opens UDP and TCP on every address, TCP on the port UDP got.
func (s *Server) listen() error {
	for _, a := range s.cfg.Addrs {
		u, t, err := listenPair(a, s.pktinfo)
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.udp = append(s.udp, u)
		s.tcp = append(s.tcp, t)
		s.mu.Unlock()
	}
	return nil
}

// listenPair opens UDP on addr and TCP on the same port. With port 0 it
// retries when the kernel's UDP port is taken for TCP.
func listenPair(addr string, pktinfo bool) (*net.UDPConn, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("parse listen address %q: %w", addr, err)
	}
	tries := 1
	if port == "0" {
		tries = 10
	}
	for i := 0; ; i++ {
		u, err := listenUDP(addr, pktinfo)
		if err != nil {
			return nil, nil, err
		}
		p := strconv.Itoa(u.LocalAddr().(*net.UDPAddr).Port)
		t, err := net.Listen("tcp", net.JoinHostPort(host, p))
		if err == nil {
			return u, t, nil
		}
		_ = u.Close()
		if i+1 >= tries || !errors.Is(err, syscall.EADDRINUSE) {
			return nil, nil, fmt.Errorf("listen tcp %s: %w", net.JoinHostPort(host, p), err)
		}
	}
}

// udpBufferBytes is the socket buffer asked for on UDP listeners.
const udpBufferBytes = 4 << 20

// listenUDP opens a UDP socket; on a wildcard address (or with pktinfo)
// it asks for the destination address of each packet so replies leave
// from it.
func listenUDP(addr string, pktinfo bool) (*net.UDPConn, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("resolve udp %s: %w", addr, err)
	}
	u, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, fmt.Errorf("listen udp %s: %w", addr, err)
	}
	// A burst (or a GC pause) must queue, not drop: the kernel's default
	// receive buffer holds a few hundred queries, a few ms at high rates.
	// The kernel caps the size at net.core.rmem_max.
	_ = u.SetReadBuffer(udpBufferBytes)
	_ = u.SetWriteBuffer(udpBufferBytes)
	if pktinfo || wildcard(u) {
		err6 := ipv6.NewPacketConn(u).SetControlMessage(ipv6.FlagDst|ipv6.FlagInterface, true)
		err4 := ipv4.NewPacketConn(u).SetControlMessage(ipv4.FlagDst|ipv4.FlagInterface, true)
		if err4 != nil && err6 != nil {
			_ = u.Close()
			return nil, fmt.Errorf("set packet info on udp %s: %w", addr, err4)
		}
	}
	return u, nil
}

func wildcard(u *net.UDPConn) bool {
	a, ok := u.LocalAddr().(*net.UDPAddr)
	return ok && (a.IP == nil || a.IP.IsUnspecified())
}
