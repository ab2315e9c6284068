package kubelet

import (
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func (h *harness) node() *corev1.Node {
	h.t.Helper()
	n, err := h.client.CoreV1().Nodes().Get(h.ctx, "node1", metav1.GetOptions{})
	if err != nil {
		h.t.Fatalf("get node: %v", err)
	}
	return n
}

func nodeReady(n *corev1.Node) *corev1.NodeCondition {
	for i := range n.Status.Conditions {
		if n.Status.Conditions[i].Type == corev1.NodeReady {
			return &n.Status.Conditions[i]
		}
	}
	return nil
}

func TestRegisterNode(t *testing.T) {
	h := newHarness(t, true)
	h.k.cfg.Capacity = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourcePods: resource.MustParse("110")}
	h.k.cfg.RegisterTaints = []corev1.Taint{{Key: "rudder.dev/new", Effect: corev1.TaintEffectNoSchedule}}
	h.k.checkNetwork(h.ctx)
	if err := h.k.registerNode(h.ctx); err != nil {
		t.Fatalf("registerNode: %v", err)
	}
	n := h.node()
	for k, v := range map[string]string{corev1.LabelHostname: "node1", "rudder.dev/zone": "a", corev1.LabelOSStable: "linux"} {
		if n.Labels[k] != v {
			t.Errorf("label %s=%q, want %q", k, n.Labels[k], v)
		}
	}
	addrs := map[corev1.NodeAddressType]string{}
	for _, a := range n.Status.Addresses {
		addrs[a.Type] = a.Address
	}
	if addrs[corev1.NodeInternalIP] != "192.0.2.10" || addrs[corev1.NodeHostName] != "node1" {
		t.Errorf("addresses %+v", n.Status.Addresses)
	}
	if cpu := n.Status.Capacity[corev1.ResourceCPU]; cpu.String() != "2" {
		t.Errorf("capacity %v", n.Status.Capacity)
	}
	if pods := n.Status.Allocatable[corev1.ResourcePods]; pods.String() != "110" {
		t.Errorf("allocatable %v", n.Status.Allocatable)
	}
	if n.Status.DaemonEndpoints.KubeletEndpoint.Port != 10250 {
		t.Errorf("daemonEndpoints %+v", n.Status.DaemonEndpoints)
	}
	if len(n.Spec.Taints) != 1 || n.Spec.Taints[0].Key != "rudder.dev/new" {
		t.Errorf("taints %+v", n.Spec.Taints)
	}
	if n.Status.NodeInfo.KubeletVersion != Version {
		t.Errorf("kubelet version %q", n.Status.NodeInfo.KubeletVersion)
	}
	if c := nodeReady(n); c == nil || c.Status != corev1.ConditionTrue {
		t.Errorf("Ready %+v, want True with a ready network", c)
	}

	// A second registration (kubelet restart) takes the Node over.
	h.k.cfg.NodeLabels = map[string]string{"rudder.dev/zone": "b"}
	if err := h.k.registerNode(h.ctx); err != nil {
		t.Fatalf("second registerNode: %v", err)
	}
	if got := h.node().Labels["rudder.dev/zone"]; got != "b" {
		t.Errorf("label after re-registration %q, want b", got)
	}
}

func TestNodeLease(t *testing.T) {
	h := newHarness(t, true)
	if err := h.k.registerNode(h.ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.k.renewLease(h.ctx); err != nil {
		t.Fatalf("create lease: %v", err)
	}
	leases := h.client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	l, err := leases.Get(h.ctx, "node1", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("lease in %s: %v", corev1.NamespaceNodeLease, err)
	}
	if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity != "node1" || l.Spec.LeaseDurationSeconds == nil || *l.Spec.LeaseDurationSeconds != 40 {
		t.Errorf("lease spec %+v", l.Spec)
	}
	if len(l.OwnerReferences) != 1 || l.OwnerReferences[0].Kind != "Node" || l.OwnerReferences[0].Name != "node1" {
		t.Errorf("owner references %+v", l.OwnerReferences)
	}
	if l.Spec.RenewTime == nil || !l.Spec.RenewTime.Time.Equal(testStart) {
		t.Errorf("renew time %v, want %v", l.Spec.RenewTime, testStart)
	}
	h.clock.Step(10 * time.Second)
	if err := h.k.renewLease(h.ctx); err != nil {
		t.Fatalf("renew lease: %v", err)
	}
	l, _ = leases.Get(h.ctx, "node1", metav1.GetOptions{})
	if !l.Spec.RenewTime.Time.Equal(testStart.Add(10 * time.Second)) {
		t.Errorf("renew time %v after renewal", l.Spec.RenewTime)
	}
}

func TestNodeReadyFollowsNetwork(t *testing.T) {
	h := newHarness(t, true)
	h.net.setReady(errors.New("no CNI configuration in /etc/cni/net.d"))
	h.k.checkNetwork(h.ctx)
	if err := h.k.registerNode(h.ctx); err != nil {
		t.Fatal(err)
	}
	c := nodeReady(h.node())
	if c == nil || c.Status != corev1.ConditionFalse || c.Reason != "KubeletNotReady" || !strings.Contains(c.Message, "no CNI configuration") {
		t.Fatalf("Ready %+v, want False with the network error", c)
	}
	before := len(h.client.Actions())
	if err := h.k.updateNodeStatus(h.ctx, false); err != nil {
		t.Fatal(err)
	}
	for _, a := range h.client.Actions()[before:] {
		if a.GetVerb() == "patch" {
			t.Error("node status patched with nothing changed")
		}
	}

	h.clock.Step(time.Second)
	h.net.setReady(nil)
	h.k.checkNetwork(h.ctx)
	if err := h.k.updateNodeStatus(h.ctx, false); err != nil {
		t.Fatal(err)
	}
	c = nodeReady(h.node())
	if c == nil || c.Status != corev1.ConditionTrue || c.Reason != "KubeletReady" {
		t.Fatalf("Ready %+v, want True once the network is ready", c)
	}
	if !c.LastTransitionTime.Time.Equal(testStart.Add(time.Second)) {
		t.Errorf("transition time %v, want %v", c.LastTransitionTime, testStart.Add(time.Second))
	}
}

// TestNodeLoopTurnsReady runs the node loop on the fake clock: it polls
// the network every half second until it is ready.
func TestNodeLoopTurnsReady(t *testing.T) {
	h := newHarness(t, true)
	h.net.setReady(errors.New("not yet"))
	h.k.checkNetwork(h.ctx)
	if err := h.k.registerNode(h.ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.k.nodeLoop(h.ctx)
	}()
	t.Cleanup(func() { h.cancel(); <-done })
	waitFor(t, "lease", func() bool {
		_, err := h.client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Get(h.ctx, "node1", metav1.GetOptions{})
		return err == nil
	})
	h.net.setReady(nil)
	waitFor(t, "node loop waiting", h.clock.HasWaiters)
	h.clock.Step(500 * time.Millisecond)
	waitFor(t, "Ready=True", func() bool {
		c := nodeReady(h.node())
		return c != nil && c.Status == corev1.ConditionTrue
	})
}

// TestNodeReadyWithoutPodNetwork: with Deps.Network nil (host-network
// only node) nothing can ever clear the initial "not checked" error.
func TestNodeReadyWithoutPodNetwork(t *testing.T) {
	h := newHarness(t, false)
	h.k.checkNetwork(h.ctx)
	if ok, msg := h.k.readiness(); !ok {
		t.Errorf("not ready without a pod network: %s", msg)
	}
}

// waitFor polls cond in real time for a short while.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestRunSmoke runs the whole kubelet over the fake API: it registers the
// node, starts a bound pod and reports it Running. Deletion is covered by
// TestDeletionRunsPreStopThenStops (see TestRunShutdownAfterDeletion).
func TestRunSmoke(t *testing.T) {
	h := newHarness(t, true)
	h.k.recorder, h.k.ctx = nil, nil // Run sets them
	done := make(chan error, 1)
	go func() { done <- h.k.Run(h.ctx) }()
	t.Cleanup(func() {
		// Let pending informer notifications reach their workers before
		// the kubelet stops (see TestRunShutdownAfterDeletion).
		time.Sleep(100 * time.Millisecond)
		h.cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	waitFor(t, "node registration", func() bool {
		_, err := h.client.CoreV1().Nodes().Get(h.ctx, "node1", metav1.GetOptions{})
		return err == nil
	})
	pod := testPod("smoke", corev1.RestartPolicyAlways, ctr("app"))
	if _, err := h.client.CoreV1().Pods("default").Create(h.ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "pod Running", func() bool {
		p, err := h.client.CoreV1().Pods("default").Get(h.ctx, "smoke", metav1.GetOptions{})
		return err == nil && p.Status.Phase == corev1.PodRunning && podCond(p.Status, corev1.PodReady) == corev1.ConditionTrue
	})
	if err := h.k.Lookup("default", "smoke", "app"); err != nil {
		t.Errorf("Lookup: %v", err)
	}
	if running, err := h.k.Running("default", "smoke", "app"); err != nil || !running {
		t.Errorf("Running = %v, %v", running, err)
	}
	if c := nodeReady(h.node()); c == nil || c.Status != corev1.ConditionTrue {
		t.Errorf("node Ready %+v", c)
	}
	waitFor(t, "informer caught up", func() bool {
		cached, err := h.k.pods.Pods("default").Get("smoke")
		api := h.apiPod("default", "smoke")
		return err == nil && equality.Semantic.DeepEqual(cached.Status, api.Status)
	})
}

// TestRunShutdownAfterDeletion deletes a pod and stops the kubelet: the
// informer's delete event, arriving after the pod's worker has ended,
// starts a new worker (wg.Add from zero) concurrently with Run's
// wg.Wait.
func TestRunShutdownAfterDeletion(t *testing.T) {
	h := newHarness(t, true)
	h.k.recorder, h.k.ctx = nil, nil
	done := make(chan error, 1)
	go func() { done <- h.k.Run(h.ctx) }()
	t.Cleanup(func() {
		h.cancel()
		<-done
	})
	pod := testPod("gone", corev1.RestartPolicyAlways, ctr("app"))
	if _, err := h.client.CoreV1().Pods("default").Create(h.ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "container start", func() bool { return h.rt.latest("app") != nil })
	p := h.apiPod("default", "gone")
	p.DeletionTimestamp = &metav1.Time{Time: h.clock.Now()}
	p.DeletionGracePeriodSeconds = ptr.To(int64(30))
	if _, err := h.client.CoreV1().Pods("default").Update(h.ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "pod removed from the API", func() bool {
		_, err := h.client.CoreV1().Pods("default").Get(h.ctx, "gone", metav1.GetOptions{})
		return err != nil
	})
	waitFor(t, "worker gone", func() bool { return h.k.Lookup("default", "gone", "") != nil })
}
