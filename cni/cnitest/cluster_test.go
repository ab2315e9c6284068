package cnitest

import (
	"strings"
	"testing"
	"time"

	"rudder/cni/netd/netdtest"
	"rudder/cni/netd/netstate"
)

// TestPodsReachEveryPod: three nodes, netd on each, two pods per node
// attached by the real plugin; every pod reaches every other pod by ping
// and by TCP, over vxlan and over host-gw.
func TestPodsReachEveryPod(t *testing.T) {
	netdtest.RequireRoot(t)
	plugin := BuildPlugin(t)
	for _, backend := range []netstate.Backend{netstate.VXLAN, netstate.HostGW} {
		t.Run(string(backend), func(t *testing.T) {
			c := NewCluster(t, Config{Nodes: 3, Backend: backend, PluginDir: plugin})
			var pods []*Pod
			for _, n := range c.Nodes {
				pods = append(pods, n.AddPod(t, "a"), n.AddPod(t, "b"))
			}
			for _, dst := range pods {
				addr := netdtest.Listen(t, dst.NS, dst.IP)
				for _, src := range pods {
					if src == dst {
						continue
					}
					if err := netdtest.Ping(src.NS, dst.IP, 3*time.Second); err != nil {
						t.Fatalf("ping %s (%s) → %s (%s): %v", src.Name, src.IP, dst.Name, dst.IP, err)
					}
					if err := netdtest.TCP(src.NS, addr, 3*time.Second); err != nil {
						t.Fatalf("tcp %s → %s: %v", src.Name, addr, err)
					}
				}
			}
			t.Logf("%s: %d pods, %d ordered pairs reach each other by ping and TCP", backend, len(pods), len(pods)*(len(pods)-1))
			checkMTU(t, pods[0], backend)
			checkVerbs(t, c.Nodes[0], pods[0], pods[1])
		})
	}
}

// checkMTU: the pod interface carries the overlay MTU.
func checkMTU(t *testing.T, p *Pod, backend netstate.Backend) {
	// Not /sys/class/net: sysfs shows the namespace it was mounted in.
	out, err := netdtest.Run(p.NS, "ip", "-o", "link", "show", "eth0")
	if err != nil {
		t.Fatal(err)
	}
	want := " mtu 1450 "
	if backend == netstate.HostGW {
		want = " mtu 1500 "
	}
	if !strings.Contains(out, want) {
		t.Fatalf("pod eth0 on %s: want%sin %q", backend, want, out)
	}
}

// checkVerbs runs STATUS, CHECK and GC on the conflist netd wrote: GC
// keeping one pod removes the other's attachment, which CHECK then misses.
func checkVerbs(t *testing.T, n *Node, keep, drop *Pod) {
	if err := n.Status(); err != nil {
		t.Fatalf("STATUS: %v", err)
	}
	for _, p := range []*Pod{keep, drop} {
		if err := n.Check(p); err != nil {
			t.Fatalf("CHECK %s: %v", p.Name, err)
		}
	}
	if err := n.GC(keep); err != nil {
		t.Fatalf("GC: %v", err)
	}
	if err := n.Check(keep); err != nil {
		t.Fatalf("CHECK of the kept pod after GC: %v", err)
	}
	if err := n.Check(drop); err == nil {
		t.Fatalf("CHECK of %s passed after GC released it", drop.Name)
	}
}
