// Package cnitest builds small clusters of network namespaces that run the
// real packet path: netd per node (in process, over a fake clientset) and
// pods attached by the real rudder CNI plugin through libcni, the way a
// container runtime calls it. Tests and benchmarks share it.
package cnitest

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/types"
	types100 "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/cni/pkg/version"
	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"rudder/cni/netd"
	"rudder/cni/netd/netdtest"
	"rudder/cni/netd/netstate"
	"rudder/cni/netd/nodesource"
)

// BuildPlugin builds cmd/rudder-cni as dir/rudder (the binary name of CNI
// type "rudder") and returns dir.
func BuildPlugin(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("go", "build", "-o", filepath.Join(dir, "rudder"), "rudder/cmd/rudder-cni").CombinedOutput()
	if err != nil {
		t.Fatalf("go build rudder-cni: %v\n%s", err, out)
	}
	return dir
}

// NodeExec runs CNI plugins inside a node's namespace: the fork happens on
// a thread moved there, so the plugin starts in it, as on a real node.
type NodeExec struct {
	Node ns.NetNS
	Raw  invoke.RawExec
	version.PluginDecoder
}

// ExecPlugin implements invoke.Exec.
func (e *NodeExec) ExecPlugin(ctx context.Context, path string, stdin []byte, env []string) ([]byte, error) {
	var out []byte
	var err error
	if derr := e.Node.Do(func(ns.NetNS) error {
		out, err = e.Raw.ExecPlugin(ctx, path, stdin, env)
		return nil
	}); derr != nil {
		return nil, derr
	}
	return out, err
}

// FindInPath implements invoke.Exec.
func (e *NodeExec) FindInPath(plugin string, paths []string) (string, error) {
	return invoke.FindInPath(plugin, paths)
}

// Config shapes a cluster.
type Config struct {
	Nodes     int
	Backend   netstate.Backend
	PluginDir string // from BuildPlugin
}

// Cluster is a running topology.
type Cluster struct {
	Topo  *netdtest.Topology
	Nodes []*Node
}

// Node is one node with its netd and its CNI configuration.
type Node struct {
	*netdtest.Node
	Index int
	cni   *libcni.CNIConfig
	list  *libcni.NetworkConfigList
}

// Pod is a pod namespace attached by the plugin.
type Pod struct {
	Name string
	NS   ns.NetNS
	IP   netip.Addr
}

// NewCluster builds the topology, starts netd on every node and waits until
// each wrote its CNI configuration.
func NewCluster(t testing.TB, cfg Config) *Cluster {
	t.Helper()
	c := &Cluster{Topo: netdtest.NewTopology(t, cfg.Nodes)}
	for _, nd := range c.Topo.Nodes {
		// Real nodes have a default route; the iptables proxy rejects
		// connections to services without endpoints in FORWARD, which a
		// packet without a route never reaches. The underlay namespace
		// does not forward, so nothing leaves the lab.
		if out, err := netdtest.Run(nd.NS, "ip", "route", "add", "default", "via", "198.18.0.1"); err != nil {
			t.Fatalf("default route in %s: %v %s", nd.Name, err, out)
		}
	}
	client := fake.NewClientset()
	for i, nd := range c.Topo.Nodes {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("n%d", i+1)}}
		n.Spec.PodCIDR = fmt.Sprintf("10.244.%d.0/24", i+1)
		n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: nd.Addr.Addr().String()}}
		if _, err := client.CoreV1().Nodes().Create(context.Background(), n, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for i, nd := range c.Topo.Nodes {
		c.Nodes = append(c.Nodes, startNode(t, client, nd, i+1, cfg))
	}
	c.waitConverged(t)
	return c
}

// waitConverged waits until every node routes every other node's pod
// range: netd is ready after its first sync, which may come before its
// peers published their VTEP addresses.
func (c *Cluster) waitConverged(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for _, n := range c.Nodes {
		for _, peer := range c.Nodes {
			if peer == n {
				continue
			}
			cidr := fmt.Sprintf("10.244.%d.0/24", peer.Index)
			for {
				out, err := netdtest.Run(n.NS, "ip", "route", "show", cidr)
				if err == nil && strings.Contains(out, cidr) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("node n%d has no route to %s after 20s", n.Index, cidr)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
}

func startNode(t testing.TB, client *fake.Clientset, nd *netdtest.Node, i int, cfg Config) *Node {
	dir := t.TempDir()
	nc := netd.DefaultConfig()
	nc.NodeName, nc.Backend, nc.Underlay, nc.NetNS = fmt.Sprintf("n%d", i), cfg.Backend, nd.Iface, nd.NS.Path()
	nc.SubnetFile = filepath.Join(dir, "subnet.env")
	nc.CNIConfDir, nc.IPAMDataDir = filepath.Join(dir, "net.d"), filepath.Join(dir, "ipam")
	d, err := netd.New(nc, netd.Deps{Nodes: nodesource.NewKube(nodesource.KubeConfig{Client: client}), Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-d.Ready():
	case err := <-done:
		t.Fatalf("netd n%d stopped: %v", i, err)
	case <-time.After(20 * time.Second):
		t.Fatalf("netd n%d not ready", i)
	}
	list, err := libcni.ConfListFromFile(filepath.Join(nc.CNIConfDir, "10-rudder.conflist"))
	if err != nil {
		t.Fatalf("read the conflist netd wrote: %v", err)
	}
	exec := &NodeExec{Node: nd.NS, Raw: invoke.RawExec{Stderr: os.Stderr}}
	return &Node{Node: nd, Index: i, list: list,
		cni: libcni.NewCNIConfigWithCacheDir([]string{cfg.PluginDir}, filepath.Join(dir, "cni-cache"), exec)}
}

// AddPod creates a pod namespace and attaches it with the plugin (ADD);
// DEL runs in Cleanup.
func (n *Node) AddPod(t testing.TB, name string) *Pod {
	t.Helper()
	p := &Pod{Name: n.Name + "-" + name}
	p.NS = netdtest.NewNetNS(t, p.Name)
	rt := &libcni.RuntimeConf{ContainerID: p.Name, NetNS: p.NS.Path(), IfName: "eth0"}
	res, err := n.cni.AddNetworkList(context.Background(), n.list, rt)
	if err != nil {
		t.Fatalf("CNI ADD %s: %v", p.Name, err)
	}
	t.Cleanup(func() { _ = n.cni.DelNetworkList(context.Background(), n.list, rt) })
	r, err := types100.NewResultFromResult(res)
	if err != nil || len(r.IPs) == 0 {
		t.Fatalf("CNI ADD %s result: %v %+v", p.Name, err, res)
	}
	p.IP, _ = netip.AddrFromSlice(r.IPs[0].Address.IP.To4())
	return p
}

// Check runs CNI CHECK for a pod.
func (n *Node) Check(p *Pod) error {
	return n.cni.CheckNetworkList(context.Background(), n.list, &libcni.RuntimeConf{ContainerID: p.Name, NetNS: p.NS.Path(), IfName: "eth0"})
}

// Status runs CNI STATUS on the node.
func (n *Node) Status() error {
	return n.cni.GetStatusNetworkList(context.Background(), n.list)
}

// GC runs CNI GC on the node keeping only the given pods.
func (n *Node) GC(keep ...*Pod) error {
	var valid []types.GCAttachment
	for _, p := range keep {
		valid = append(valid, types.GCAttachment{ContainerID: p.Name, IfName: "eth0"})
	}
	return n.cni.GCNetworkList(context.Background(), n.list, &libcni.GCArgs{ValidAttachments: valid})
}
