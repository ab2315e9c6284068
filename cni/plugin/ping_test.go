package plugin

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
)

// ping sends ICMP echo requests to dst from the calling thread's namespace
// until one is answered or timeout passes.
func ping(dst netip.Addr, timeout time.Duration) error {
	c, err := icmp.ListenPacket("ip4:icmp", "0.0.0.0")
	if err != nil {
		return fmt.Errorf("icmp socket: %w", err)
	}
	defer c.Close()
	deadline := time.Now().Add(timeout)
	for seq := 1; time.Now().Before(deadline); seq++ {
		msg := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: os.Getpid() & 0xffff, Seq: seq, Data: []byte("rudder")}}
		b, _ := msg.Marshal(nil)
		if _, err := c.WriteTo(b, &net.IPAddr{IP: dst.AsSlice()}); err != nil {
			return fmt.Errorf("send echo to %s: %w", dst, err)
		}
		if answered(c, dst, seq, time.Now().Add(200*time.Millisecond)) {
			return nil
		}
	}
	return fmt.Errorf("no echo reply from %s within %v", dst, timeout)
}

func answered(c *icmp.PacketConn, dst netip.Addr, seq int, until time.Time) bool {
	buf := make([]byte, 1500)
	_ = c.SetReadDeadline(until)
	for {
		k, peer, err := c.ReadFrom(buf)
		if err != nil {
			return false
		}
		m, err := icmp.ParseMessage(1, buf[:k])
		if err != nil || m.Type != ipv4.ICMPTypeEchoReply {
			continue
		}
		if e, ok := m.Body.(*icmp.Echo); ok && e.Seq == seq && peer.String() == dst.String() {
			return true
		}
	}
}
