package netdtest

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/containernetworking/plugins/pkg/ns"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
)

// Ping sends ICMP echo requests from inside netNS to dst until one is
// answered or timeout passes.
func Ping(netNS ns.NetNS, dst netip.Addr, timeout time.Duration) error {
	var c *icmp.PacketConn
	err := netNS.Do(func(ns.NetNS) error {
		var err error
		c, err = icmp.ListenPacket("ip4:icmp", "0.0.0.0")
		return err
	})
	if err != nil {
		return fmt.Errorf("icmp socket in %s: %w", netNS.Path(), err)
	}
	defer c.Close()
	id := os.Getpid() & 0xffff
	deadline := time.Now().Add(timeout)
	for seq := 1; time.Now().Before(deadline); seq++ {
		if echo(c, dst, id, seq) == nil {
			return nil
		}
	}
	return fmt.Errorf("ping %s from %s: no reply within %s", dst, netNS.Path(), timeout)
}

// echo sends one request and waits up to 300 ms for its reply.
func echo(c *icmp.PacketConn, dst netip.Addr, id, seq int) error {
	msg := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: id, Seq: seq, Data: []byte("rudder")}}
	b, err := msg.Marshal(nil)
	if err != nil {
		return err
	}
	if _, err := c.WriteTo(b, &net.IPAddr{IP: dst.AsSlice()}); err != nil {
		time.Sleep(100 * time.Millisecond)
		return err
	}
	_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, 1500)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return err
		}
		reply, err := icmp.ParseMessage(1, buf[:n])
		if err != nil || reply.Type != ipv4.ICMPTypeEchoReply || from.String() != dst.String() {
			continue
		}
		if e, ok := reply.Body.(*icmp.Echo); ok && e.ID == id && e.Seq == seq {
			return nil
		}
	}
}

// Listen starts a TCP echo server inside netNS on addr:port (port 0 picks
// one) and returns its address; it stops when the test ends.
func Listen(t testing.TB, netNS ns.NetNS, addr netip.Addr) netip.AddrPort {
	t.Helper()
	var l net.Listener
	err := netNS.Do(func(ns.NetNS) error {
		var err error
		l, err = net.Listen("tcp4", netip.AddrPortFrom(addr, 0).String())
		return err
	})
	must(t, "listen in "+netNS.Path(), err)
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return netip.MustParseAddrPort(l.Addr().String())
}

// TCP connects from inside netNS to dst, sends a line and expects it back.
func TCP(netNS ns.NetNS, dst netip.AddrPort, timeout time.Duration) error {
	var c net.Conn
	err := netNS.Do(func(ns.NetNS) error {
		var err error
		c, err = net.DialTimeout("tcp4", dst.String(), timeout)
		return err
	})
	if err != nil {
		return fmt.Errorf("tcp connect %s from %s: %w", dst, netNS.Path(), err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	want := bytes.Repeat([]byte("rudder "), 1000) // several segments
	if _, err := c.Write(want); err != nil {
		return fmt.Errorf("tcp write to %s: %w", dst, err)
	}
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil {
		return fmt.Errorf("tcp read from %s: %w", dst, err)
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("tcp echo from %s: data differs", dst)
	}
	return nil
}
