package conntrack

import (
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"rudder/lab/netns"
)

// TestNetlinkDeletesOnlyUnNATedTCP makes, in a namespace of its own, a
// TCP entry that missed the DNAT (a SYN to a service address with no
// rules yet) and one that was DNAT'ed, and checks that flushing both
// service addresses removes only the first.
func TestNetlinkDeletesOnlyUnNATedTCP(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("needs root: network namespaces, nftables, conntrack")
	}
	prefix := netns.RunPrefix("rdrt")
	a, err := netns.Create(prefix + "-cta")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Delete() })
	b, err := netns.Create(prefix + "-ctb")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Delete() })
	if err := netns.Veth(a, "eth0", "198.18.251.1/24", b, "eth0", "198.18.251.2/24"); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range [][]string{
		{"ip", "route", "add", "10.96.0.0/16", "via", "198.18.251.2"},
		{"nft", "add table ip t; add chain ip t out { type nat hook output priority -100; }; add rule ip t out ip daddr 10.96.8.8 tcp dport 80 dnat to 198.18.251.2:80"},
	} {
		if out, err := a.Run(cmd[0], cmd[1:]...); err != nil {
			t.Fatalf("%v: %v %s", cmd, err, out)
		}
	}
	var ln net.Listener
	err = ns.WithNetNSPath(b.Path, func(ns.NetNS) error {
		var err error
		ln, err = net.Listen("tcp", "198.18.251.2:80")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	unNATed, natted := netip.MustParseAddr("10.96.7.7"), netip.MustParseAddr("10.96.8.8")
	err = ns.WithNetNSPath(a.Path, func(ns.NetNS) error {
		// b does not route 10.96.7.7: the SYN stays unanswered (SYN_SENT).
		if c, err := net.DialTimeout("tcp", "10.96.7.7:80", 200*time.Millisecond); err == nil {
			c.Close()
		}
		// 10.96.8.8 is DNAT'ed to b's listener: an established connection.
		c, err := net.DialTimeout("tcp", "10.96.8.8:80", 2*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		if got, nat := tcpEntries(t, unNATed), tcpEntries(t, natted); got != 1 || nat != 1 {
			t.Fatalf("before: %d entries to %s and %d to %s, want 1 and 1", got, unNATed, nat, natted)
		}
		n, err := Netlink{}.Delete(Flush{TCPServiceIPs: []netip.Addr{unNATed, natted}})
		if err != nil {
			return err
		}
		if n != 1 || tcpEntries(t, unNATed) != 0 || tcpEntries(t, natted) != 1 {
			t.Errorf("deleted %d; left %d un-NATed and %d NATed entries, want 1; 0 and 1", n, tcpEntries(t, unNATed), tcpEntries(t, natted))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// tcpEntries counts the TCP conntrack entries whose original destination
// is ip, in the current namespace.
func tcpEntries(t *testing.T, ip netip.Addr) int {
	flows, err := netlink.ConntrackTableList(netlink.ConntrackTable, unix.AF_INET)
	if err != nil {
		t.Fatalf("list conntrack: %v", err)
	}
	n := 0
	for _, f := range flows {
		if f.Forward.Protocol == unix.IPPROTO_TCP && f.Forward.DstIP.Equal(ip.AsSlice()) {
			n++
		}
	}
	return n
}
