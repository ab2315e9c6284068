package netd

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"rudder/cni/netd/cniconf"
	"rudder/cni/netd/kernel"
	"rudder/cni/netd/netstate"
	"rudder/cni/netd/nodesource"
)

type fakeForwarder struct {
	mu    sync.Mutex
	err   error
	calls int
}

func (f *fakeForwarder) Ensure() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return f.err
}

func (f *fakeForwarder) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func kubeNode(i int, podCIDR bool) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("n%d", i)}}
	if podCIDR {
		n.Spec.PodCIDR = fmt.Sprintf("10.244.%d.0/24", i)
	}
	n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: fmt.Sprintf("198.18.0.%d", 10+i)}}
	return n
}

// fakeNode is one daemon over a fake kernel.
type fakeNode struct {
	d      *Daemon
	kernel *kernel.Fake
	fw     *fakeForwarder
	reg    *prometheus.Registry
	dir    string
}

func startFakeNode(t *testing.T, ctx context.Context, client kubernetes.Interface, i int, backend netstate.Backend) *fakeNode {
	t.Helper()
	u := netstate.Underlay{Name: "eth0", Addr: netip.MustParsePrefix(fmt.Sprintf("198.18.0.%d/24", 10+i)), MTU: 1500}
	n := &fakeNode{kernel: kernel.NewFake(u), fw: &fakeForwarder{}, reg: prometheus.NewRegistry(), dir: t.TempDir()}
	cfg := Config{
		NodeName: fmt.Sprintf("n%d", i), Backend: backend, Underlay: "eth0",
		SubnetFile: filepath.Join(n.dir, "run", "subnet.env"), CNIConfDir: filepath.Join(n.dir, "net.d"),
		IPMasq: true, ResyncPeriod: 200 * time.Millisecond,
	}
	d, err := New(cfg, Deps{Nodes: nodesource.NewKube(nodesource.KubeConfig{Client: client}),
		Kernel: n.kernel, Forwarder: n.fw, Registerer: n.reg})
	if err != nil {
		t.Fatal(err)
	}
	n.d = d
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return n
}

func eventually(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); !ok(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
	}
}

func waitReady(t *testing.T, n *fakeNode) {
	t.Helper()
	select {
	case <-n.d.Ready():
	case <-time.After(5 * time.Second):
		t.Fatalf("%s not ready: %s", n.d.cfg.NodeName, n.d.unhealthy())
	}
}

func TestDaemonsConvergeOverFakes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	client := fake.NewClientset(kubeNode(1, true), kubeNode(2, true), kubeNode(3, true))
	var nodes []*fakeNode
	for i := 1; i <= 3; i++ {
		nodes = append(nodes, startFakeNode(t, ctx, client, i, netstate.VXLAN))
	}
	for _, n := range nodes {
		waitReady(t, n)
	}
	hasPeers := func(n *fakeNode, peers ...int) func() bool {
		return func() bool {
			d := n.kernel.Dump()
			return strings.Count(d, "route ") == len(peers) && strings.Count(d, "fdb ") == len(peers) &&
				!strings.Contains(d, "0e:72:c6:12:00:0d") == (len(peers) == 1)
		}
	}
	for _, n := range nodes {
		eventually(t, 5*time.Second, n.d.cfg.NodeName+" programs both peers", hasPeers(n, 1, 2))
	}
	checkFiles(t, nodes[0])
	checkAnnotations(t, client)
	checkHealth(t, nodes[0], 200, "ok")
	if got := value(nodes[0].d.metrics.peers.WithLabelValues("programmed")); got != 2 {
		t.Errorf("rudder_netd_peers{state=programmed} = %v, want 2", got)
	}

	// Deleted by hand: back within the resync period.
	route := nodes[0].kernel.State().Routes[0]
	if err := nodes[0].kernel.Apply(netstate.Plan{DelRoutes: []netstate.Route{route}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Second, "hand-deleted route restored", func() bool {
		return strings.Contains(nodes[0].kernel.Dump(), route.String())
	})

	// A departed node vanishes from the others.
	if err := client.CoreV1().Nodes().Delete(ctx, "n3", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes[:2] {
		eventually(t, 2*time.Second, n.d.cfg.NodeName+" forgets n3", func() bool {
			d := n.kernel.Dump()
			return !strings.Contains(d, "10.244.3.0") && !strings.Contains(d, "198.18.0.13")
		})
	}
}

func checkFiles(t *testing.T, n *fakeNode) {
	t.Helper()
	data, err := os.ReadFile(n.d.cfg.SubnetFile)
	if err != nil {
		t.Fatal(err)
	}
	want := "RUDDER_NETWORK=10.244.0.0/16\nRUDDER_SUBNET=10.244.1.1/24\nRUDDER_MTU=1450\nRUDDER_IPMASQ=true\n"
	if string(data) != want {
		t.Errorf("subnet file:\n%s\nwant:\n%s", data, want)
	}
	data, err = os.ReadFile(filepath.Join(n.d.cfg.CNIConfDir, cniconf.DefaultConflistName))
	if err != nil || !strings.Contains(string(data), `"subnetFile": "`+n.d.cfg.SubnetFile+`"`) {
		t.Errorf("conflist (%v):\n%s", err, data)
	}
}

func checkAnnotations(t *testing.T, client kubernetes.Interface) {
	t.Helper()
	n2, err := client.CoreV1().Nodes().Get(context.Background(), "n2", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a := n2.Annotations; a[nodesource.AnnotationVTEPMAC] != "0e:72:c6:12:00:0c" || a[nodesource.AnnotationPublicIP] != "198.18.0.12" {
		t.Errorf("n2 annotations = %v", a)
	}
}

func checkHealth(t *testing.T, n *fakeNode, code int, body string) {
	t.Helper()
	rec := httptest.NewRecorder()
	n.d.Healthz().ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != code || !strings.Contains(rec.Body.String(), body) {
		t.Errorf("healthz = %d %q, want %d containing %q", rec.Code, rec.Body.String(), code, body)
	}
}

func TestDaemonWaitsForPodCIDR(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	client := fake.NewClientset(kubeNode(1, false))
	n := startFakeNode(t, ctx, client, 1, netstate.HostGW)
	eventually(t, 2*time.Second, "waiting reported", func() bool { return strings.Contains(n.d.unhealthy(), "podCIDR") })
	select {
	case <-n.d.Ready():
		t.Fatal("ready without a pod range")
	default:
	}
	if _, err := os.Stat(n.d.cfg.SubnetFile); !os.IsNotExist(err) {
		t.Errorf("subnet file exists without a pod range (stat: %v)", err)
	}
	node, _ := client.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	node.Spec.PodCIDR = "10.244.1.0/24"
	if _, err := client.CoreV1().Nodes().Update(ctx, node, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitReady(t, n)
	data, _ := os.ReadFile(n.d.cfg.SubnetFile)
	if !strings.Contains(string(data), "RUDDER_MTU=1500\n") {
		t.Errorf("host-gw subnet file:\n%s", data)
	}
	n1, _ := client.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	if _, ok := n1.Annotations[nodesource.AnnotationVTEPMAC]; ok {
		t.Errorf("host-gw node publishes a VTEP MAC: %v", n1.Annotations)
	}
}

func TestDaemonHealthAfterFailures(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	client := fake.NewClientset(kubeNode(1, true))
	n := startFakeNode(t, ctx, client, 1, netstate.VXLAN)
	n.fw.fail(errors.New("iptables broke"))
	eventually(t, 2*time.Second, "failure reported", func() bool { return strings.Contains(n.d.unhealthy(), "iptables broke") })
	checkHealth(t, n, 503, "not ready")
	n.fw.fail(nil)
	waitReady(t, n)
	checkHealth(t, n, 200, "ok")

	n.fw.fail(errors.New("iptables broke again"))
	eventually(t, 2*time.Second, "failure recorded", func() bool {
		n.d.mu.Lock()
		defer n.d.mu.Unlock()
		return n.d.status.lastErr != nil
	})
	n.d.mu.Lock()
	n.d.status.lastSuccess = time.Now().Add(-time.Minute) // as if failing for a minute
	n.d.mu.Unlock()
	eventually(t, 2*time.Second, "stale sync reported", func() bool {
		return strings.Contains(n.d.unhealthy(), "last successful sync")
	})
	if value(n.d.metrics.failures) == 0 {
		t.Error("failures not counted")
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	src := nodesource.NewStatic()
	bad := []Config{
		{},
		{NodeName: "n1", Backend: "udp"},
		{NodeName: "n1", ClusterCIDR: netip.MustParsePrefix("10.244.1.0/16")},
		{NodeName: "n1", VNI: 1 << 24},
		{NodeName: "n1", Port: 70000},
		{NodeName: "n1", Device: "a-very-long-device-name"},
	}
	for _, cfg := range bad {
		if _, err := New(cfg, Deps{Nodes: src}); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
	if _, err := New(Config{NodeName: "n1"}, Deps{}); err == nil {
		t.Error("New without a node source succeeded")
	}
	d, err := New(Config{NodeName: "n1"}, Deps{Nodes: src})
	if err != nil {
		t.Fatal(err)
	}
	if d.cfg.Device != "rudder.1" || d.cfg.Port != 8472 || d.cfg.ResyncPeriod != 4*time.Second {
		t.Errorf("defaults not applied: %+v", d.cfg)
	}
}

// value reads a gauge's or counter's current value.
func value(m prometheus.Metric) float64 {
	var out dto.Metric
	if err := m.Write(&out); err != nil {
		return -1
	}
	if out.Counter != nil {
		return out.Counter.GetValue()
	}
	return out.Gauge.GetValue()
}
