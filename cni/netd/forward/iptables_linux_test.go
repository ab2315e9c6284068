package forward

import (
	"net/netip"
	"strings"
	"testing"

	"rudder/cni/netd/netdtest"
)

func TestIPTablesEnsure(t *testing.T) {
	netdtest.RequireRoot(t)
	netNS := netdtest.NewNetNS(t, netdtest.NewPrefix(t)+"-fw")
	f := NewIPTables(netNS, Config{ClusterCIDR: netip.MustParsePrefix("10.244.0.0/16")})
	save := func() string {
		out, err := netdtest.Run(netNS, "iptables", "-S")
		if err != nil {
			t.Fatalf("iptables -S: %v: %s", err, out)
		}
		return out
	}
	want := []string{
		"-A FORWARD -m comment --comment \"rudder: accept pod traffic\" -j RUDDER-FORWARD",
		"-A RUDDER-FORWARD -s 10.244.0.0/16 -j ACCEPT",
		"-A RUDDER-FORWARD -d 10.244.0.0/16 -j ACCEPT",
	}
	check := func(when string) {
		t.Helper()
		got := save()
		for _, w := range want {
			if strings.Count(got, w) != 1 {
				t.Errorf("%s: want exactly one %q in:\n%s", when, w, got)
			}
		}
	}
	for range 2 {
		if err := f.Ensure(); err != nil {
			t.Fatal(err)
		}
	}
	check("after Ensure twice")

	for _, args := range [][]string{{"-D", "FORWARD", "1"}, {"-D", "RUDDER-FORWARD", "2"}} {
		if out, err := netdtest.Run(netNS, "iptables", args...); err != nil {
			t.Fatalf("iptables %v: %v: %s", args, err, out)
		}
	}
	if err := f.Ensure(); err != nil {
		t.Fatal(err)
	}
	check("after rules were deleted by hand")
}
