package netd_test

import (
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"rudder/cni/netd/desired"
	"rudder/cni/netd/netdtest"
	"rudder/cni/netd/netstate"
)

// kernelLines is what iproute2 must show in node `self` for the peers, in
// the form `ip route/neigh` and `bridge fdb` print it.
func (c *cluster) kernelLines(self int, peers []int) (want, unwanted []string) {
	for j := 1; j <= 3; j++ {
		if j == self {
			continue
		}
		underlay := fmt.Sprintf("198.18.0.%d", 10+j)
		mac := desired.VTEPMAC(netip.MustParseAddr(underlay))
		lines := []string{fmt.Sprintf("10.244.%d.0/24 via %s dev eth0", j, underlay)}
		if c.backend == netstate.VXLAN {
			lines = []string{
				fmt.Sprintf("10.244.%d.0/24 via 10.244.%d.0 dev rudder.1 onlink", j, j),
				fmt.Sprintf("10.244.%d.0 lladdr %s PERMANENT", j, mac),
				fmt.Sprintf("%s dst %s self permanent", mac, underlay),
			}
		}
		if slices.Contains(peers, j) {
			want = append(want, lines...)
		} else {
			unwanted = append(unwanted, lines...)
		}
	}
	return want, unwanted
}

// show is the node's overlay state as iproute2 sees it.
func (c *cluster) show(t *testing.T, nd *netdtest.Node) string {
	t.Helper()
	out := run(t, nd, "ip", "route", "show", "proto", "114")
	if c.backend == netstate.VXLAN {
		out += run(t, nd, "ip", "neigh", "show", "dev", "rudder.1", "nud", "permanent")
		out += run(t, nd, "bridge", "fdb", "show", "dev", "rudder.1")
	}
	return out
}

// checkKernel waits until node i (0-based) programs exactly the given peers
// and checks the device, sysctl and forwarding rules.
func (c *cluster) checkKernel(t *testing.T, i int, peers []int) {
	nd := c.topo.Nodes[i]
	want, unwanted := c.kernelLines(i+1, peers)
	eventually(t, 5*time.Second, nd.Name+" programs "+fmt.Sprint(peers), func() string {
		got := c.show(t, nd)
		for _, w := range want {
			if !strings.Contains(got, w) {
				return fmt.Sprintf("missing %q in:\n%s", w, got)
			}
		}
		for _, u := range unwanted {
			if strings.Contains(got, u) {
				return fmt.Sprintf("still %q in:\n%s", u, got)
			}
		}
		return ""
	})
	if got := strings.TrimSpace(run(t, nd, "cat", "/proc/sys/net/ipv4/ip_forward")); got != "1" {
		t.Errorf("%s: ip_forward = %s", nd.Name, got)
	}
	if rules := run(t, nd, "iptables", "-S", "RUDDER-FORWARD"); !strings.Contains(rules, "-s 10.244.0.0/16 -j ACCEPT") {
		t.Errorf("%s: forwarding rules:\n%s", nd.Name, rules)
	}
	if c.backend != netstate.VXLAN {
		return
	}
	link := run(t, nd, "ip", "-d", "addr", "show", "rudder.1")
	for _, w := range []string{"mtu 1450", "vxlan id 1 ", "local " + nd.Addr.Addr().String(), "dev eth0", "dstport 8472",
		"nolearning", fmt.Sprintf("inet 10.244.%d.0/32 ", i+1)} {
		if !strings.Contains(link, w) {
			t.Errorf("%s: rudder.1 lacks %q:\n%s", nd.Name, w, link)
		}
	}
}

// checkTraffic pings every node's gateway from every other node, and every
// pod from every other pod, and runs TCP between all pods.
func (c *cluster) checkTraffic(t *testing.T) {
	for i, src := range c.pods {
		for j, dst := range c.pods {
			if i == j {
				continue
			}
			gw := dst.Addr.Prev()
			if err := netdtest.Ping(c.topo.Nodes[i].NS, gw, 3*time.Second); err != nil {
				t.Errorf("node n%d → gateway %s: %v", i+1, gw, err)
			}
			if err := netdtest.Ping(src.NS, dst.Addr, 3*time.Second); err != nil {
				t.Errorf("pod %s → pod %s: %v", src.Addr, dst.Addr, err)
			}
			ap := netdtest.Listen(t, dst.NS, dst.Addr)
			if err := netdtest.TCP(src.NS, ap, 3*time.Second); err != nil {
				t.Errorf("pod %s → pod %s: %v", src.Addr, ap, err)
			}
		}
	}
}

// checkRestore deletes a route by hand and expects it back within 5 s
// (the default resync period is 4 s).
func (c *cluster) checkRestore(t *testing.T) {
	nd := c.topo.Nodes[0]
	run(t, nd, "ip", "route", "del", "10.244.2.0/24")
	start := time.Now()
	eventually(t, 5*time.Second, "hand-deleted route restored", func() string {
		if out := run(t, nd, "ip", "route", "show", "10.244.2.0/24"); !strings.Contains(out, "proto 114") {
			return "route absent"
		}
		return ""
	})
	t.Logf("route restored after %s", time.Since(start).Round(10*time.Millisecond))
	if err := netdtest.Ping(c.pods[0].NS, c.pods[1].Addr, 3*time.Second); err != nil {
		t.Errorf("after restore: %v", err)
	}
}

// checkDeparture deletes Node n3 and expects its objects gone on n1 and n2.
func (c *cluster) checkDeparture(t *testing.T) {
	if err := c.client.CoreV1().Nodes().Delete(context.Background(), "n3", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	c.checkKernel(t, 0, []int{2})
	c.checkKernel(t, 1, []int{1})
}

// checkRootUntouched makes sure nothing leaked into the test process's namespace.
func checkRootUntouched(t *testing.T) {
	t.Helper()
	out, err := exec.Command("ip", "route", "show", "proto", "114").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("root namespace has netd routes (%v): %s", err, out)
	}
	if err := exec.Command("ip", "link", "show", "rudder.1").Run(); err == nil {
		t.Error("root namespace has a rudder.1 device")
	}
}
