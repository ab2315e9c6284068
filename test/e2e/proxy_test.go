package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containernetworking/plugins/pkg/ns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"rudder/cni/cnitest"
	"rudder/cni/netd/netstate"
)

// proxyLab is two nodes (VXLAN) with pods attached by the real plugin, a
// rudder server in the underlay namespace (reachable from every node at
// 198.18.0.1) and `rudder proxy` running in node n1's namespace.
type proxyLab struct {
	t       *testing.T
	cluster *cnitest.Cluster
	cs      *kubernetes.Clientset
	client  *cnitest.Pod // on n1
	eps     []*cnitest.Pod
	ul      ns.NetNS
}

// dialIn dials from inside a namespace: the socket belongs to it, and can
// then be used from any goroutine.
func dialIn(n ns.NetNS, network, addr string, timeout time.Duration) (net.Conn, error) {
	var c net.Conn
	err := n.Do(func(ns.NetNS) error {
		var err error
		c, err = net.DialTimeout(network, addr, timeout)
		return err
	})
	return c, err
}

func newProxyLab(t *testing.T, mode string) *proxyLab {
	plugin := cnitest.BuildPlugin(t)
	lab := &proxyLab{t: t, cluster: cnitest.NewCluster(t, cnitest.Config{Nodes: 2, Backend: netstate.VXLAN, PluginDir: plugin})}
	lab.ul = lab.cluster.Topo.Underlay
	kc := lab.startServer()
	lab.client = lab.cluster.Nodes[0].AddPod(t, "client")
	for i, node := range []int{0, 1, 1} {
		p := lab.cluster.Nodes[node].AddPod(t, fmt.Sprintf("ep%d", i))
		serveWho(t, p)
		lab.eps = append(lab.eps, p)
	}
	lab.startProxy(kc, mode)
	return lab
}

// serveWho answers HTTP on :8080 in the pod with "<pod name> <remote addr>".
func serveWho(t *testing.T, p *cnitest.Pod) {
	var l net.Listener
	if err := p.NS.Do(func(ns.NetNS) error {
		var err error
		l, err = net.Listen("tcp4", ":8080")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s", p.Name, r.RemoteAddr)
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
}

func (lab *proxyLab) startServer() string {
	t := lab.t
	dir := t.TempDir()
	kc := filepath.Join(dir, "admin.kubeconfig")
	cmd := exec.Command("nsenter", "--net="+lab.ul.Path(), "--", rudderBin(t), "server", "--data-dir", dir,
		"--secure-port", "6443", "--bind-address", "198.18.0.1", "--advertise-address", "198.18.0.1",
		"--write-kubeconfig", kc, "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGKILL); _ = cmd.Wait() })
	eventually(t, "rudder server in the underlay answers", 30*time.Second, func() error {
		cfg, err := clientcmd.BuildConfigFromFlags("", kc)
		if err != nil {
			return err
		}
		cfg.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialIn(lab.ul, network, addr, 5*time.Second)
		}
		if lab.cs, err = kubernetes.NewForConfig(cfg); err != nil {
			return err
		}
		_, err = lab.cs.Discovery().ServerVersion()
		return err
	})
	return kc
}

func (lab *proxyLab) startProxy(kc, mode string) {
	t := lab.t
	cmd := exec.Command("nsenter", "--net="+lab.cluster.Nodes[0].NS.Path(), "--", rudderBin(t), "proxy",
		"--kubeconfig", kc, "--mode", mode, "--hostname-override", "n1", "--cluster-cidr", "10.244.0.0/16",
		"--min-sync-period", "100ms", "--metrics-addr", "", "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGKILL); _ = cmd.Wait() })
}

// service creates a Service with its own EndpointSlice of the given pods.
func (lab *proxyLab) service(name string, mutate func(*corev1.Service), pods ...*cnitest.Pod) *corev1.Service {
	ctx := context.Background()
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}}}}
	if mutate != nil {
		mutate(svc)
	}
	svc, err := lab.cs.CoreV1().Services("default").Create(ctx, svc, metav1.CreateOptions{})
	if err != nil {
		lab.t.Fatal(err)
	}
	lab.setEndpoints(name, pods...)
	return svc
}

func (lab *proxyLab) setEndpoints(svc string, pods ...*cnitest.Pod) {
	ctx := context.Background()
	port, portName, ready := int32(8080), "http", true
	slice := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: svc + "-1", Namespace: "default",
		Labels: map[string]string{discoveryv1.LabelServiceName: svc}}, AddressType: discoveryv1.AddressTypeIPv4,
		Ports: []discoveryv1.EndpointPort{{Name: &portName, Port: &port}}}
	for _, p := range pods {
		node := "n1"
		if !strings.HasPrefix(p.IP.String(), "10.244.1.") {
			node = "n2"
		}
		slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{Addresses: []string{p.IP.String()},
			NodeName: &node, Conditions: discoveryv1.EndpointConditions{Ready: &ready}})
	}
	_, err := lab.cs.DiscoveryV1().EndpointSlices("default").Update(ctx, slice, metav1.UpdateOptions{})
	if err != nil {
		_, err = lab.cs.DiscoveryV1().EndpointSlices("default").Create(ctx, slice, metav1.CreateOptions{})
	}
	if err != nil {
		lab.t.Fatal(err)
	}
}

// get does one HTTP request over a fresh connection from inside a
// namespace and returns the body ("<pod> <client addr>").
func get(from ns.NetNS, addr netip.AddrPort) (string, error) {
	c, err := dialIn(from, "tcp4", addr.String(), 2*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	fmt.Fprintf(c, "GET / HTTP/1.0\r\nHost: x\r\n\r\n")
	b, err := io.ReadAll(c)
	if err != nil {
		return "", err
	}
	s := string(b)
	if i := strings.Index(s, "\r\n\r\n"); i >= 0 {
		s = s[i+4:]
	}
	return s, nil
}

func clusterIP(svc *corev1.Service) netip.AddrPort {
	return netip.AddrPortFrom(netip.MustParseAddr(svc.Spec.ClusterIP), uint16(svc.Spec.Ports[0].Port))
}

// TestProxy runs the service proxy in real namespaces against a real
// rudder server, per backend.
func TestProxy(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	for _, mode := range proxyModes() {
		t.Run(mode, func(t *testing.T) { testProxy(t, mode) })
	}
}

func proxyModes() []string {
	if m := os.Getenv("RUDDER_PROXY_MODES"); m != "" {
		return strings.Split(m, ",")
	}
	return []string{"nftables", "iptables"}
}

func testProxy(t *testing.T, mode string) {
	lab := newProxyLab(t, mode)
	web := lab.service("web", nil, lab.eps...)
	addr := clusterIP(web)
	eventually(t, "ClusterIP reaches an endpoint", 15*time.Second, func() error { _, err := get(lab.client.NS, addr); return err })
	counts := map[string]int{}
	for i := 0; i < 300; i++ {
		body, err := get(lab.client.NS, addr)
		if err != nil {
			t.Fatalf("connection %d to %s: %v", i, addr, err)
		}
		counts[strings.Fields(body)[0]]++
	}
	for _, ep := range lab.eps {
		if counts[ep.Name] < 60 {
			t.Fatalf("300 connections over 3 endpoints: %v; want each ≥ 20%%", counts)
		}
	}
	t.Logf("%s: 300 connections spread %v", mode, counts)

	empty := lab.service("empty", nil)
	refused := func() error {
		_, err := get(lab.client.NS, clusterIP(empty))
		if err == nil || !strings.Contains(err.Error(), "refused") {
			return fmt.Errorf("got %v, want connection refused", err)
		}
		return nil
	}
	eventually(t, "a service without endpoints refuses", 10*time.Second, refused)
	start := time.Now()
	if err := refused(); err != nil || time.Since(start) > 200*time.Millisecond {
		t.Fatalf("refusal took %s (%v), want at once", time.Since(start), err)
	}

	sticky := lab.service("sticky", func(s *corev1.Service) { s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP }, lab.eps...)
	eventually(t, "sticky service answers", 10*time.Second, func() error { _, err := get(lab.client.NS, clusterIP(sticky)); return err })
	first, _ := get(lab.client.NS, clusterIP(sticky))
	for i := 0; i < 20; i++ {
		if body, _ := get(lab.client.NS, clusterIP(sticky)); strings.Fields(body)[0] != strings.Fields(first)[0] {
			t.Fatalf("affinity: %q then %q", first, body)
		}
	}

	local := lab.service("local", func(s *corev1.Service) {
		s.Spec.Type = corev1.ServiceTypeNodePort
		s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	}, lab.eps...)
	np := netip.AddrPortFrom(netip.MustParseAddr("198.18.0.11"), uint16(local.Spec.Ports[0].NodePort))
	eventually(t, "NodePort with eTP=Local from outside", 10*time.Second, func() error {
		body, err := get(lab.ul, np)
		if err != nil {
			return err
		}
		f := strings.Fields(body)
		if f[0] != lab.eps[0].Name || !strings.HasPrefix(f[1], "198.18.0.1:") {
			return fmt.Errorf("got %q, want the local endpoint %s seeing the client's own address 198.18.0.1", body, lab.eps[0].Name)
		}
		return nil
	})

	cluster := lab.service("np", func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeNodePort }, lab.eps...)
	npc := netip.AddrPortFrom(netip.MustParseAddr("198.18.0.11"), uint16(cluster.Spec.Ports[0].NodePort))
	eventually(t, "NodePort with eTP=Cluster from outside", 10*time.Second, func() error {
		body, err := get(lab.ul, npc)
		if err != nil {
			return err
		}
		if f := strings.Fields(body); strings.HasPrefix(f[1], "198.18.0.1:") {
			return fmt.Errorf("got %q: an endpoint saw the off-cluster client's address; want it masqueraded", body)
		}
		return nil
	})

	lab.setEndpoints("web", lab.eps[0], lab.eps[1])
	removed := time.Now()
	eventually(t, "new connections avoid a removed endpoint", 5*time.Second, func() error {
		for i := 0; i < 30; i++ {
			if body, err := get(lab.client.NS, addr); err != nil || strings.HasPrefix(body, lab.eps[2].Name) {
				return fmt.Errorf("still reached %q (%v)", body, err)
			}
		}
		return nil
	})
	if d := time.Since(removed); d > time.Second {
		t.Fatalf("new connections avoided the removed endpoint only after %s, want within 1 s", d)
	}
	testUDPBackendReplaced(t, lab)
}

// serveUDPWho answers every datagram on :5353 with the pod's name; the
// returned func stops it.
func serveUDPWho(t *testing.T, p *cnitest.Pod) func() {
	var pc net.PacketConn
	if err := p.NS.Do(func(ns.NetNS) error {
		var err error
		pc, err = net.ListenPacket("udp4", ":5353")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	go func() {
		buf := make([]byte, 1500)
		for {
			_, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteTo([]byte(p.Name), from)
		}
	}()
	t.Cleanup(func() { _ = pc.Close() })
	return func() { _ = pc.Close() }
}

// testUDPBackendReplaced: a UDP client keeps its socket (one conntrack
// entry) while its backend goes away and another takes over; the proxy
// deletes the stale entry so the client's next datagrams reach the new one.
func testUDPBackendReplaced(t *testing.T, lab *proxyLab) {
	stopOld := serveUDPWho(t, lab.eps[1])
	serveUDPWho(t, lab.eps[2])
	svc := lab.service("dnsish", func(s *corev1.Service) {
		s.Spec.Ports = []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolUDP, Port: 53, TargetPort: intstr.FromInt32(5353)}}
	})
	lab.setUDPEndpoints("dnsish", lab.eps[1])
	conn, err := dialIn(lab.client.NS, "udp4", net.JoinHostPort(svc.Spec.ClusterIP, "53"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ask := func() (string, error) {
		_ = conn.SetDeadline(time.Now().Add(300 * time.Millisecond))
		if _, err := conn.Write([]byte("who")); err != nil {
			return "", err
		}
		b := make([]byte, 256)
		n, err := conn.Read(b)
		return string(b[:n]), err
	}
	eventually(t, "UDP service answers", 10*time.Second, func() error {
		got, err := ask()
		if err == nil && got != lab.eps[1].Name {
			err = fmt.Errorf("answered by %q, want %s", got, lab.eps[1].Name)
		}
		return err
	})
	stopOld()
	lab.setUDPEndpoints("dnsish", lab.eps[2])
	eventually(t, "the same UDP socket reaches the new backend", 5*time.Second, func() error {
		got, err := ask()
		if err == nil && got != lab.eps[2].Name {
			err = fmt.Errorf("answered by %q, want %s", got, lab.eps[2].Name)
		}
		return err
	})
}

// setUDPEndpoints is setEndpoints for a UDP port 5353.
func (lab *proxyLab) setUDPEndpoints(svc string, pods ...*cnitest.Pod) {
	ctx := context.Background()
	port, portName, proto, ready := int32(5353), "http", corev1.ProtocolUDP, true
	slice := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: svc + "-1", Namespace: "default",
		Labels: map[string]string{discoveryv1.LabelServiceName: svc}}, AddressType: discoveryv1.AddressTypeIPv4,
		Ports: []discoveryv1.EndpointPort{{Name: &portName, Port: &port, Protocol: &proto}}}
	for _, p := range pods {
		node := "n2"
		slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{Addresses: []string{p.IP.String()},
			NodeName: &node, Conditions: discoveryv1.EndpointConditions{Ready: &ready}})
	}
	if _, err := lab.cs.DiscoveryV1().EndpointSlices("default").Update(ctx, slice, metav1.UpdateOptions{}); err != nil {
		if _, err = lab.cs.DiscoveryV1().EndpointSlices("default").Create(ctx, slice, metav1.CreateOptions{}); err != nil {
			lab.t.Fatal(err)
		}
	}
}
