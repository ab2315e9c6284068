package nodelocal

import (
	"context"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/vishvananda/netlink"
	"sigs.k8s.io/knftables"

	"rudder/lab/netns"
)

func TestRules(t *testing.T) {
	fake := knftables.NewFake(knftables.IPv4Family, DefaultTable)
	tx := fake.NewTransaction()
	Rules(tx, DefaultIP)
	if err := fake.Run(context.Background(), tx); err != nil {
		t.Fatal(err)
	}
	got := fake.Dump()
	for _, want := range []string{
		"add chain ip rudder-nodelocaldns prerouting { type filter hook prerouting priority -300 ; }",
		"add chain ip rudder-nodelocaldns output { type filter hook output priority -300 ; }",
		"add rule ip rudder-nodelocaldns prerouting ip daddr 169.254.20.10 udp dport 53 notrack",
		"add rule ip rudder-nodelocaldns prerouting ip daddr 169.254.20.10 tcp dport 53 notrack",
		"add rule ip rudder-nodelocaldns output ip saddr 169.254.20.10 udp sport 53 notrack",
		"add rule ip rudder-nodelocaldns output ip daddr 169.254.20.10 tcp dport 53 notrack",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("rules lack %q:\n%s", want, got)
		}
	}
	// A second run replaces the table's content instead of adding to it.
	tx = fake.NewTransaction()
	Rules(tx, DefaultIP)
	if err := fake.Run(context.Background(), tx); err != nil {
		t.Fatal(err)
	}
	if again := fake.Dump(); again != got {
		t.Errorf("second Setup changed the table:\n%s\nwas\n%s", again, got)
	}
}

func TestConfigRejectsIPv6(t *testing.T) {
	err := Setup(context.Background(), Config{IP: netip.MustParseAddr("fd00::10"), NFT: knftables.NewFake(knftables.IPv4Family, "x")})
	if err == nil || !strings.Contains(err.Error(), "IPv4") {
		t.Fatalf("Setup with an IPv6 address: err %v, want an IPv4-only error", err)
	}
}

// TestKernel sets the cache address up in a namespace of its own, twice
// (an agent restart), checks the link and the table, and tears it down.
func TestKernel(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("needs root: network namespaces and nftables")
	}
	n, err := netns.Create(netns.RunPrefix("rdrt") + "-nl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Delete() })
	ctx := context.Background()
	err = ns.WithNetNSPath(n.Path, func(ns.NetNS) error {
		for range 2 {
			if err := Setup(ctx, Config{}); err != nil {
				return err
			}
		}
		l, err := netlink.LinkByName(DefaultInterface)
		if err != nil {
			return err
		}
		addrs, err := netlink.AddrList(l, netlink.FAMILY_V4)
		if err != nil {
			return err
		}
		if len(addrs) != 1 || addrs[0].IP.String() != DefaultIP.String() {
			t.Errorf("addresses of %s: %v, want only %s", DefaultInterface, addrs, DefaultIP)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := n.Run("nft", "list", "table", "ip", DefaultTable)
	if err != nil {
		t.Fatalf("nft list: %v %s", err, out)
	}
	if c := strings.Count(out, "notrack"); c != 6 {
		t.Errorf("table has %d notrack rules, want 6:\n%s", c, out)
	}
	err = ns.WithNetNSPath(n.Path, func(ns.NetNS) error { return Teardown(ctx, Config{}) })
	if err != nil {
		t.Fatal(err)
	}
	if out, err := n.Run("ip", "-o", "link"); err != nil || strings.Contains(out, DefaultInterface) {
		t.Errorf("after Teardown: %v links %s", err, out)
	}
	if out, err := n.Run("nft", "list", "tables"); err != nil || strings.Contains(out, DefaultTable) {
		t.Errorf("after Teardown: %v tables %s", err, out)
	}
}
