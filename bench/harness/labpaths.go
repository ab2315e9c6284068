package harness

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/vishvananda/netlink"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"rudder/lab"
	"rudder/lab/netns"
)

// labSpec is one lab cluster the paths of one overlay and one proxy
// backend are measured on.
type labSpec struct {
	overlay, proxy, subnet string
}

// benchNS is the namespace of the bench's pods and services.
const benchNS = "bench"

// labEnv is a running lab with the bench's pods.
type labEnv struct {
	lab                   *lab.Lab
	cs                    *kubernetes.Clientset
	server, local, remote *netns.NS // the pods' network namespaces
	serverIP              string
	node1, node2          lab.Node
	tmp                   string // holds the lab dir
}

// labPaths brings up a 2-node lab, runs pods on it and measures pod to
// pod, ClusterIP and NodePort paths, then the proxy's scaling.
func (b *bench) labPaths(ctx context.Context, s labSpec) {
	name := s.overlay + "/" + s.proxy + " lab"
	b.prog.Step("%s: lab up", name)
	env, err := b.upLab(ctx, s)
	if env != nil {
		defer func() {
			b.prog.Step("%s: lab down", name)
			if err := env.lab.Down(context.Background()); err != nil {
				b.prog.Logf("lab down: %v", err)
			}
			_ = os.RemoveAll(env.tmp)
		}()
	}
	if err != nil {
		b.skip(name, err)
		return
	}
	stop, err := b.startEcho(ctx, env.server)
	if err != nil {
		b.skip(name, err)
		return
	}
	defer stop()
	svc, err := env.benchService(ctx)
	if err != nil {
		b.skip(name, err)
		return
	}
	for _, e := range b.labEndpoints(s, env, svc) {
		// CRR leaves thousands of closed connections in the nodes'
		// conntrack tables; a ClusterIP connection whose DNAT'd reply
		// tuple equals one of them (the same client port towards the
		// pod) cannot be NATed and is dropped. Each path starts clean.
		if err := env.flushConntrack(); err != nil {
			b.prog.Logf("flush conntrack: %v", err)
		}
		b.measure(ctx, e)
	}
	b.scaling(ctx, env, s.proxy)
}

// labEndpoints are the paths a lab offers: pod to pod (same node only on
// the first lab: it does not depend on the overlay), across nodes, through
// the ClusterIP and through a NodePort.
func (b *bench) labEndpoints(s labSpec, env *labEnv, svc *corev1.Service) []endpoint {
	var eps []endpoint
	if s.overlay == "vxlan" {
		eps = append(eps, endpoint{id: "pod-same-node", name: "pod↔pod, same node", group: "pod",
			client: env.local, server: env.server, addr: env.serverIP})
	}
	eps = append(eps,
		endpoint{id: "pod-" + s.overlay, name: "pod↔pod across nodes, " + s.overlay, group: "pod",
			client: env.remote, server: env.server, addr: env.serverIP},
		endpoint{id: "clusterip-" + s.proxy, name: "pod→ClusterIP→pod, " + s.proxy, group: "service", versus: "pod-same-node",
			client: env.local, server: env.server, addr: svc.Spec.ClusterIP},
		// A NodePort client on node-2 reaches node-1's address over the
		// underlay, unencapsulated; only the DNAT to the pod is rudder's.
		endpoint{id: "nodeport-" + s.proxy, name: "node→NodePort→pod, " + s.proxy, group: "nodeport",
			client: &netns.NS{Name: env.node2.Name, Path: env.node2.NetNSPath}, server: env.server,
			addr: env.node1.IP.String(), dialStream: int(svc.Spec.Ports[0].NodePort), dialEcho: int(svc.Spec.Ports[1].NodePort)})
	return eps
}

// upLab starts the lab and the three pods: a server and a client on
// node-1, a client on node-2.
func (b *bench) upLab(ctx context.Context, s labSpec) (*labEnv, error) {
	dir, err := os.MkdirTemp("", "rudder-bench-lab-")
	if err != nil {
		return nil, err
	}
	l, err := lab.Up(ctx, lab.Config{Dir: filepath.Join(dir, "lab"), Nodes: 2, ProxyMode: s.proxy, Overlay: s.overlay,
		Underlay: s.subnet, Prefix: netns.RunPrefix("rdrb"), RudderBin: b.cfg.RudderBin, CNIPlugin: b.cfg.CNIPlugin,
		AddonsDir: filepath.Join(dir, "no-addons"), WaitReady: true})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("lab up: %w", err)
	}
	env := &labEnv{lab: l, node1: l.Nodes()[0], node2: l.Nodes()[1], tmp: dir}
	rc, err := clientcmd.BuildConfigFromFlags("", l.Kubeconfig())
	if err != nil {
		return env, err
	}
	rc.QPS, rc.Burst = 2000, 4000
	if env.cs, err = kubernetes.NewForConfig(rc); err != nil {
		return env, err
	}
	if _, err := env.cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: benchNS}}, metav1.CreateOptions{}); err != nil {
		return env, fmt.Errorf("create namespace: %w", err)
	}
	pods := []struct {
		name, node string
		dst        **netns.NS
	}{{"server", env.node1.Name, &env.server}, {"local", env.node1.Name, &env.local}, {"remote", env.node2.Name, &env.remote}}
	for _, p := range pods {
		if _, err := env.cs.CoreV1().Pods(benchNS).Create(ctx, benchPod(p.name, p.node), metav1.CreateOptions{}); err != nil {
			return env, fmt.Errorf("create pod %s: %w", p.name, err)
		}
	}
	for _, p := range pods {
		pod, err := env.waitRunning(ctx, p.name)
		if err != nil {
			return env, err
		}
		path := filepath.Join(l.Dir(), "nodes", p.node, "netns", "pod-"+string(pod.UID))
		*p.dst = &netns.NS{Name: p.name, Path: path}
		if p.name == "server" {
			env.serverIP = pod.Status.PodIP
		}
	}
	return env, nil
}

// benchPod is a pod that only holds a network namespace for the bench's
// own (pinned) processes; its netexec answers probes.
func benchPod(name, node string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: benchNS, Labels: map[string]string{"app": "bench-" + name}},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{
			Name: "netexec", Image: "rudder", Args: []string{"netexec", "--http-port=8080", "--udp-port=0"},
		}}},
	}
}

func (env *labEnv) waitRunning(ctx context.Context, name string) (*corev1.Pod, error) {
	var pod *corev1.Pod
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		p, err := env.cs.CoreV1().Pods(benchNS).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		pod = p
		return p.Status.PodIP != "" && p.Status.Phase == corev1.PodRunning, nil
	})
	if err != nil {
		return nil, fmt.Errorf("pod %s not running: %w", name, err)
	}
	return pod, nil
}

// benchService is the NodePort Service in front of the server pod: the
// stream port first, the echo port second.
func (env *labEnv) benchService(ctx context.Context) (*corev1.Service, error) {
	svc := serviceFor("server", corev1.ServiceTypeNodePort)
	out, err := env.cs.CoreV1().Services(benchNS).Create(ctx, svc, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("create service: %w", err)
	}
	if err := env.waitAnswers(ctx, net.JoinHostPort(out.Spec.ClusterIP, strconv.Itoa(echoPort))); err != nil {
		return nil, err
	}
	return out, nil
}

// waitAnswers waits until target accepts connections from the local pod
// (the proxy has programmed the service and its endpoints). Each try is
// a new connection with a short timeout: a SYN sent before the rules
// exist leaves a conntrack entry without NAT that its retransmissions
// would keep matching.
func (env *labEnv) waitAnswers(ctx context.Context, target string) error {
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 2*time.Minute, true, func(context.Context) (bool, error) {
		err := ns.WithNetNSPath(env.local.Path, func(ns.NetNS) error {
			c, err := net.DialTimeout("tcp", target, 500*time.Millisecond)
			if err == nil {
				c.Close()
			}
			return err
		})
		return err == nil, nil
	})
	if err != nil {
		return fmt.Errorf("service %s never answered: %w", target, err)
	}
	return nil
}

// serviceFor selects the server pod on the stream and echo ports.
func serviceFor(name string, typ corev1.ServiceType) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: benchNS},
		Spec: corev1.ServiceSpec{Type: typ, Selector: map[string]string{"app": "bench-server"}, Ports: []corev1.ServicePort{
			{Name: "stream", Port: streamPort, TargetPort: intstr.FromInt32(streamPort)},
			{Name: "echo", Port: echoPort, TargetPort: intstr.FromInt32(echoPort)},
		}},
	}
}

// flushConntrack empties the conntrack tables of both nodes.
func (env *labEnv) flushConntrack() error {
	for _, n := range []lab.Node{env.node1, env.node2} {
		err := ns.WithNetNSPath(n.NetNSPath, func(ns.NetNS) error {
			return netlink.ConntrackTableFlush(netlink.ConntrackTable)
		})
		if err != nil {
			return fmt.Errorf("node %s: %w", n.Name, err)
		}
	}
	return nil
}
