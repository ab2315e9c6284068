package netd_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"rudder/cni/netd"
	"rudder/cni/netd/cniconf"
	"rudder/cni/netd/netdtest"
	"rudder/cni/netd/netstate"
	"rudder/cni/netd/nodesource"
)

// TestOverlayInNamespaces runs three netd instances in-process, one per
// node namespace of an underlay on 198.18.0.0/24, all watching one fake
// clientset, and checks kernel state and pod-to-pod traffic per backend.
func TestOverlayInNamespaces(t *testing.T) {
	netdtest.RequireRoot(t)
	for _, backend := range []netstate.Backend{netstate.VXLAN, netstate.HostGW} {
		t.Run(string(backend), func(t *testing.T) { testOverlay(t, backend) })
	}
}

// cluster is the topology plus what the test made on top of it.
type cluster struct {
	topo    *netdtest.Topology
	client  kubernetes.Interface
	backend netstate.Backend
	pods    []*netdtest.Pod
}

func testOverlay(t *testing.T, backend netstate.Backend) {
	c := &cluster{topo: netdtest.NewTopology(t, 3), backend: backend}
	var objs []*corev1.Node
	for i, nd := range c.topo.Nodes {
		objs = append(objs, nodeObject(i+1, nd.Addr.Addr()))
		// A DROP policy, as Docker leaves it: pods only talk through netd's
		// accept rules. Strict reverse-path filtering, as some distributions
		// set it: node-to-pod traffic must come back the way it went.
		run(t, nd, "iptables", "-P", "FORWARD", "DROP")
		run(t, nd, "sysctl", "-q", "-w", "net.ipv4.conf.all.rp_filter=1")
	}
	c.client = fake.NewClientset(objs[0], objs[1], objs[2])
	var subnetFiles []string
	for i, nd := range c.topo.Nodes {
		subnetFiles = append(subnetFiles, startNetd(t, c.client, nd, i+1, backend))
	}
	for i, nd := range c.topo.Nodes {
		c.pods = append(c.pods, addPod(t, nd, i+1, subnetFiles[i]))
	}
	for i := range c.topo.Nodes {
		c.checkKernel(t, i, []int{1, 2, 3})
	}
	c.checkTraffic(t)
	c.checkRestore(t)
	c.checkDeparture(t)
	checkRootUntouched(t)
}

func nodeObject(i int, underlay netip.Addr) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("n%d", i)}}
	n.Spec.PodCIDR = fmt.Sprintf("10.244.%d.0/24", i)
	n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: underlay.String()}}
	return n
}

// startNetd runs netd for node i inside nd's namespace until the test ends,
// waits until it is ready and returns the path of its subnet file.
func startNetd(t *testing.T, client kubernetes.Interface, nd *netdtest.Node, i int, backend netstate.Backend) string {
	dir := t.TempDir()
	cfg := netd.DefaultConfig()
	cfg.NodeName, cfg.Backend, cfg.Underlay, cfg.NetNS = fmt.Sprintf("n%d", i), backend, nd.Iface, nd.NS.Path()
	cfg.SubnetFile = filepath.Join(dir, "subnet.env")
	cfg.CNIConfDir, cfg.IPAMDataDir = filepath.Join(dir, "net.d"), filepath.Join(dir, "ipam")
	d, err := netd.New(cfg, netd.Deps{
		Nodes:      nodesource.NewKube(nodesource.KubeConfig{Client: client}),
		Registerer: prometheus.NewRegistry(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("netd n%d: %v", i, err)
		}
	})
	select {
	case <-d.Ready():
	case err := <-done:
		t.Fatalf("netd n%d stopped: %v", i, err)
	case <-time.After(15 * time.Second):
		t.Fatalf("netd n%d not ready", i)
	}
	return cfg.SubnetFile
}

// addPod makes cni0 with the gateway from the subnet file netd wrote, and a
// pod namespace with eth0 on it, as the CNI plugin would.
func addPod(t *testing.T, nd *netdtest.Node, i int, subnetFile string) *netdtest.Pod {
	data, err := os.ReadFile(subnetFile)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := cniconf.ParseSubnet(data)
	if err != nil {
		t.Fatal(err)
	}
	nd.AddBridge(t, "cni0", sub.Gateway(), sub.MTU)
	addr := netip.PrefixFrom(sub.Gateway().Addr().Next(), sub.PodCIDR.Bits())
	return nd.AddPod(t, fmt.Sprintf("p%d", i), "cni0", addr, sub.Gateway().Addr(), sub.MTU)
}

func run(t *testing.T, nd *netdtest.Node, name string, args ...string) string {
	t.Helper()
	out, err := netdtest.Run(nd.NS, name, args...)
	if err != nil {
		t.Fatalf("%s %v in %s: %v: %s", name, args, nd.NS.Path(), err, out)
	}
	return out
}

func eventually(t *testing.T, within time.Duration, what string, ok func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		msg := ok()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s, not within %s: %s", what, within, msg)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
