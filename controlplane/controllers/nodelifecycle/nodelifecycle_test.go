package nodelifecycle

import (
	"context"
	"log/slog"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"
	clocktesting "k8s.io/utils/clock/testing"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func leaseFor(node string, renew time.Time) *coordinationv1.Lease {
	rt := metav1.NewMicroTime(renew)
	return &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: node, Namespace: LeaseNamespace},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: &node, RenewTime: &rt},
	}
}

func readyNode(name string, status corev1.ConditionStatus, hb time.Time) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name)},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{
			{Type: corev1.NodeReady, Status: status, Reason: "KubeletReady", LastHeartbeatTime: metav1.NewTime(hb)},
			{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, LastHeartbeatTime: metav1.NewTime(hb)},
		}},
	}
}

func pod(name, node string, tols ...corev1.Toleration) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name)},
		Spec:       corev1.PodSpec{NodeName: node, Tolerations: tols},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{
			{Type: corev1.PodReady, Status: corev1.ConditionTrue},
		}},
	}
}

func tolerate(key string, secs *int64) corev1.Toleration {
	return corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: secs}
}

func ptr[T any](v T) *T { return &v }

type harness struct {
	t      *testing.T
	c      *Controller
	client *fake.Clientset
	clock  *clocktesting.FakeClock
	inf    informers.SharedInformerFactory
}

func newHarness(t *testing.T, objs ...runtime.Object) *harness {
	t.Helper()
	client := fake.NewClientset(objs...)
	inf := informers.NewSharedInformerFactory(client, 0)
	clk := clocktesting.NewFakeClock(t0)
	c, err := New(Config{Client: client, Informers: inf, Clock: clk, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	inf.Start(ctx.Done())
	t.Cleanup(func() { cancel(); inf.Shutdown() })
	inf.WaitForCacheSync(ctx.Done())
	return &harness{t: t, c: c, client: client, clock: clk, inf: inf}
}

// settle waits until the caches hold what the fake clientset holds.
func (h *harness) settle() {
	h.t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		nodes, _ := h.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		pods, _ := h.client.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
		leases, _ := h.client.CoordinationV1().Leases("").List(ctx, metav1.ListOptions{})
		if h.same(nodes.Items, pods.Items, leases.Items) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.t.Fatal("caches did not catch up")
}

func (h *harness) same(nodes []corev1.Node, pods []corev1.Pod, leases []coordinationv1.Lease) bool {
	return sameAs(h.inf.Core().V1().Nodes().Informer().GetStore(), nodes) &&
		sameAs(h.inf.Core().V1().Pods().Informer().GetStore(), pods) &&
		sameAs(h.inf.Coordination().V1().Leases().Informer().GetStore(), leases)
}

// sameAs tells whether store holds exactly objs (the fake clientset keeps
// no resourceVersions, so whole objects are compared).
func sameAs[T any, PT interface {
	*T
	metav1.Object
}](store cache.Store, objs []T) bool {
	if len(store.List()) != len(objs) {
		return false
	}
	for i := range objs {
		o := PT(&objs[i])
		key := o.GetName()
		if o.GetNamespace() != "" {
			key = o.GetNamespace() + "/" + key
		}
		got, ok, _ := store.GetByKey(key)
		if !ok || !apiequality.Semantic.DeepEqual(got, any(o)) {
			return false
		}
	}
	return true
}

func (h *harness) renew(node string) {
	h.t.Helper()
	l := leaseFor(node, h.clock.Now())
	if _, err := h.client.CoordinationV1().Leases(LeaseNamespace).Update(context.Background(), l, metav1.UpdateOptions{}); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) pass(step time.Duration) {
	h.t.Helper()
	h.clock.Step(step)
	h.settle()
	if err := h.c.Sync(context.Background()); err != nil {
		h.t.Fatalf("sync: %v", err)
	}
	h.settle()
}

func (h *harness) node(name string) *corev1.Node {
	h.t.Helper()
	n, err := h.client.CoreV1().Nodes().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

// podState returns "gone", "ready" or "not-ready".
func (h *harness) podState(name string) string {
	h.t.Helper()
	p, err := h.client.CoreV1().Pods("default").Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "gone"
	}
	if err != nil {
		h.t.Fatal(err)
	}
	if podReady(p) {
		return "ready"
	}
	return "not-ready"
}

func (h *harness) wantPods(want map[string]string) {
	h.t.Helper()
	for name, w := range want {
		if got := h.podState(name); got != w {
			h.t.Errorf("at +%v pod %s is %s, want %s", h.clock.Since(t0), name, got, w)
		}
	}
}

func taintKeys(n *corev1.Node) map[string]bool {
	out := map[string]bool{}
	for _, t := range n.Spec.Taints {
		out[t.Key+":"+string(t.Effect)] = true
	}
	return out
}

func TestUnreachableNodeIsTaintedAndPodsEvicted(t *testing.T) {
	h := newHarness(t,
		readyNode("n1", corev1.ConditionTrue, t0), leaseFor("n1", t0),
		readyNode("n2", corev1.ConditionTrue, t0), leaseFor("n2", t0),
		pod("none", "n1"),
		pod("short", "n1", tolerate(corev1.TaintNodeUnreachable, ptr(int64(300)))),
		pod("forever", "n1", tolerate(corev1.TaintNodeUnreachable, nil)),
		pod("other", "n2"),
	)
	ctx := context.Background()
	renew := h.renew
	h.pass(0)
	for range 4 { // n2 keeps renewing its lease, n1 does not
		h.clock.Step(10 * time.Second)
		renew("n2")
		h.pass(0)
	}
	if got := readyStatus(h.node("n1")); got != corev1.ConditionTrue {
		t.Fatalf("n1 Ready %s before the grace period ran out", got)
	}
	renew("n2")
	h.pass(time.Second) // 41 s

	n1 := h.node("n1")
	ready := condition(n1, corev1.NodeReady)
	if ready.Status != corev1.ConditionUnknown || ready.Reason != "NodeStatusUnknown" || ready.Message != "Kubelet stopped posting node status." {
		t.Fatalf("n1 Ready condition %+v", ready)
	}
	if mp := condition(n1, corev1.NodeMemoryPressure); mp.Status != corev1.ConditionUnknown {
		t.Errorf("n1 MemoryPressure %s, want Unknown", mp.Status)
	}
	if got := taintKeys(n1); !got["node.kubernetes.io/unreachable:NoExecute"] || !got["node.kubernetes.io/unreachable:NoSchedule"] || len(got) != 2 {
		t.Fatalf("n1 taints %v", got)
	}
	if got := readyStatus(h.node("n2")); got != corev1.ConditionTrue || len(h.node("n2").Spec.Taints) != 0 {
		t.Fatalf("n2 (renewing) is %s with taints %v", got, h.node("n2").Spec.Taints)
	}
	h.wantPods(map[string]string{"none": "gone", "short": "not-ready", "forever": "not-ready", "other": "ready"})
	evs, err := h.client.CoreV1().Events("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for _, e := range evs.Items {
		reasons[e.InvolvedObject.Kind+"/"+e.InvolvedObject.Name] = e.Reason + ": " + e.Message
	}
	if got := reasons["Node/n1"]; got != "NodeNotReady: Node n1 status is now: NodeNotReady" {
		t.Errorf("node event %q", got)
	}
	if got := reasons["Pod/none"]; got != "TaintManagerEviction: Marking for deletion Pod default/none" {
		t.Errorf("pod event %q", got)
	}

	h.pass(299 * time.Second)
	h.wantPods(map[string]string{"short": "not-ready", "forever": "not-ready"})
	h.pass(2 * time.Second)
	h.wantPods(map[string]string{"short": "gone", "forever": "not-ready"})

	// The kubelet comes back: lease and Ready condition.
	renew("n1")
	back := h.node("n1")
	back.Status.Conditions = readyNode("n1", corev1.ConditionTrue, h.clock.Now()).Status.Conditions
	if _, err := h.client.CoreV1().Nodes().UpdateStatus(ctx, back, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.pass(time.Second)
	if got := h.node("n1").Spec.Taints; len(got) != 0 {
		t.Errorf("n1 back but still tainted: %v", got)
	}
	h.wantPods(map[string]string{"forever": "not-ready"}) // the kubelet sets it ready again
}

func TestNotReadyNodeGetsNotReadyTaints(t *testing.T) {
	user := corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule}
	n := readyNode("n1", corev1.ConditionFalse, t0)
	n.Spec.Taints = []corev1.Taint{user}
	h := newHarness(t, n, leaseFor("n1", t0),
		pod("tolerant", "n1", tolerate(corev1.TaintNodeNotReady, ptr(int64(60)))),
		pod("intolerant", "n1", tolerate(corev1.TaintNodeUnreachable, ptr(int64(60)))))
	h.pass(0)
	got := taintKeys(h.node("n1"))
	if !got["node.kubernetes.io/not-ready:NoExecute"] || !got["node.kubernetes.io/not-ready:NoSchedule"] || !got["dedicated:NoSchedule"] || len(got) != 3 {
		t.Fatalf("taints %v", got)
	}
	if ready := condition(h.node("n1"), corev1.NodeReady); ready.Status != corev1.ConditionFalse {
		t.Fatalf("Ready changed to %s", ready.Status)
	}
	h.wantPods(map[string]string{"tolerant": "not-ready", "intolerant": "gone"})
	h.clock.Step(59 * time.Second)
	h.renew("n1")
	h.pass(0)
	h.wantPods(map[string]string{"tolerant": "not-ready"})
	h.clock.Step(time.Second)
	h.renew("n1")
	h.pass(0)
	h.wantPods(map[string]string{"tolerant": "gone"})

	// Ready again: only the user's taint stays.
	back := h.node("n1")
	back.Status.Conditions[0].Status = corev1.ConditionTrue
	if _, err := h.client.CoreV1().Nodes().UpdateStatus(context.Background(), back, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.pass(0)
	if got := h.node("n1").Spec.Taints; len(got) != 1 || got[0] != user {
		t.Errorf("taints after recovery %v", got)
	}
}

func TestNodeWithoutStatusGoesUnknownAfterGrace(t *testing.T) {
	h := newHarness(t, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "fresh"}})
	h.pass(0)
	if len(h.node("fresh").Spec.Taints) != 0 {
		t.Fatal("a brand new node was tainted")
	}
	h.pass(41 * time.Second)
	ready := condition(h.node("fresh"), corev1.NodeReady)
	if ready == nil || ready.Status != corev1.ConditionUnknown || ready.Reason != "NodeStatusNeverUpdated" {
		t.Fatalf("Ready %+v", ready)
	}
	h.pass(0)
	if got := taintKeys(h.node("fresh")); !got["node.kubernetes.io/unreachable:NoExecute"] {
		t.Errorf("taints %v", got)
	}
}

func TestEvictionTime(t *testing.T) {
	added := metav1.NewTime(t0)
	unreach := corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute, TimeAdded: &added}
	notReady := corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoExecute, TimeAdded: &added}
	cases := []struct {
		name   string
		tols   []corev1.Toleration
		taints []corev1.Taint
		want   time.Duration
		evict  bool
	}{
		{"no toleration", nil, []corev1.Taint{unreach}, 0, true},
		{"forever", []corev1.Toleration{tolerate(unreach.Key, nil)}, []corev1.Taint{unreach}, 0, false},
		{"300s", []corev1.Toleration{tolerate(unreach.Key, ptr(int64(300)))}, []corev1.Taint{unreach}, 300 * time.Second, true},
		{"shortest of two", []corev1.Toleration{tolerate(unreach.Key, ptr(int64(300))), tolerate("", ptr(int64(30)))}, []corev1.Taint{unreach}, 30 * time.Second, true},
		{"one taint untolerated", []corev1.Toleration{tolerate(unreach.Key, nil)}, []corev1.Taint{unreach, notReady}, 0, true},
		{"negative is zero", []corev1.Toleration{tolerate(unreach.Key, ptr(int64(-5)))}, []corev1.Taint{unreach}, 0, true},
	}
	for _, tc := range cases {
		p := pod("p", "n", tc.tols...)
		at, evict := EvictionTime(p, tc.taints)
		if evict != tc.evict || (evict && at.Sub(t0) != tc.want) {
			t.Errorf("%s: got %v,%v want +%v,%v", tc.name, at.Sub(t0), evict, tc.want, tc.evict)
		}
	}
}
