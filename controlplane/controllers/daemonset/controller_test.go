package daemonset

import (
	"context"
	"log/slog"
	"sort"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

const ns = "default"

// newClient returns a fake clientset that fills in generateName, uid and
// creationTimestamp on create and treats status updates as the status
// subresource does.
func newClient(objs ...runtime.Object) *fake.Clientset {
	c := fake.NewClientset(objs...)
	c.PrependReactor("create", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		obj, ok := a.(k8stesting.CreateAction).GetObject().(metav1.Object)
		if !ok {
			return false, nil, nil
		}
		if obj.GetName() == "" && obj.GetGenerateName() != "" {
			obj.SetName(obj.GetGenerateName() + rand.String(5))
		}
		if obj.GetUID() == "" {
			obj.SetUID(types.UID("uid-" + rand.String(8)))
		}
		obj.SetCreationTimestamp(metav1.Now())
		return false, nil, nil
	})
	c.PrependReactor("update", "daemonsets", func(a k8stesting.Action) (bool, runtime.Object, error) {
		u := a.(k8stesting.UpdateAction)
		if u.GetSubresource() != "status" {
			return false, nil, nil
		}
		in := u.GetObject().(*appsv1.DaemonSet)
		cur, err := c.Tracker().Get(u.GetResource(), in.Namespace, in.Name)
		if err != nil {
			return true, nil, err
		}
		out := cur.(*appsv1.DaemonSet).DeepCopy()
		out.Status = in.Status
		return true, out, c.Tracker().Update(u.GetResource(), out, in.Namespace)
	})
	return c
}

func newDS(name string) *appsv1.DaemonSet {
	l := map[string]string{"app": name}
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: types.UID("ds-" + name), Generation: 1},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: l},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: l},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "img:1"}}},
			},
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType},
		},
	}
}

func newNode(name string, taints ...corev1.Taint) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("node-" + name), Labels: map[string]string{"kubernetes.io/hostname": name}},
		Spec:       corev1.NodeSpec{Taints: taints},
	}
}

func start(t *testing.T, client *fake.Clientset) {
	t.Helper()
	f := informers.NewSharedInformerFactory(client, 0)
	c, err := New(Config{Client: client, Informers: f, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	f.Start(ctx.Done())
	go func() {
		defer close(done)
		_ = c.Run(ctx, 2)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		f.Shutdown()
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 10*time.Second, true,
		func(context.Context) (bool, error) { return cond(), nil })
	if err != nil {
		t.Fatalf("timed out waiting for %s", what)
	}
}

// podNodes returns the nodes that have a pod of the DaemonSet, sorted.
func podNodes(t *testing.T, client *fake.Clientset) []string {
	t.Helper()
	var out []string
	for _, p := range listPods(t, client) {
		out = append(out, podNode(&p))
	}
	sort.Strings(out)
	return out
}

func listPods(t *testing.T, client *fake.Clientset) []corev1.Pod {
	t.Helper()
	l, err := client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return l.Items
}

func eq(a []string, b ...string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func getDS(t *testing.T, client *fake.Clientset, name string) *appsv1.DaemonSet {
	t.Helper()
	ds, err := client.AppsV1().DaemonSets(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// bindAndReady does what the scheduler and kubelet would: bind the pod to
// its affinity node and report it Running and Ready.
func bindAndReady(t *testing.T, client *fake.Clientset, p corev1.Pod) {
	t.Helper()
	p.Spec.NodeName = podNode(&p)
	p.Status.Phase = corev1.PodRunning
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}}
	if _, err := client.CoreV1().Pods(ns).Update(context.Background(), &p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestNodesTaintsAndSelectors(t *testing.T) {
	ds := newDS("agent")
	ds.Spec.Template.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "role", Operator: corev1.NodeSelectorOpNotIn, Values: []string{"edge"}}},
		}}},
	}}
	n1 := newNode("n1")
	n2 := newNode("n2", corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule})
	// Cordoned and not ready: the default tolerations cover both.
	n3 := newNode("n3",
		corev1.Taint{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule},
		corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoExecute})
	n3.Spec.Unschedulable = true
	edge := newNode("edge")
	edge.Labels["role"] = "edge"
	client := newClient(ds, n1, n2, n3, edge)
	start(t, client)

	waitFor(t, "pods on n1 and n3", func() bool {
		return eq(podNodes(t, client), "n1", "n3") && getDS(t, client, "agent").Status.DesiredNumberScheduled == 2
	})
	for _, p := range listPods(t, client) {
		if p.Spec.NodeName != "" {
			t.Errorf("pod %s: nodeName %q set; want scheduling by affinity", p.Name, p.Spec.NodeName)
		}
		terms := p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
		if len(terms) != 1 || len(terms[0].MatchFields) != 1 || terms[0].MatchFields[0].Key != "metadata.name" {
			t.Errorf("pod %s affinity %+v", p.Name, terms)
		}
		if p.Labels[RevisionLabel] != TemplateHash(&ds.Spec.Template) || p.Labels["app"] != "agent" {
			t.Errorf("pod %s labels %v", p.Name, p.Labels)
		}
		if len(p.Spec.Tolerations) != 6 {
			t.Errorf("pod %s tolerations %+v; want the 6 defaults", p.Name, p.Spec.Tolerations)
		}
		if ref := metav1.GetControllerOf(&p); ref == nil || ref.Kind != "DaemonSet" || ref.UID != ds.UID {
			t.Errorf("pod %s owner %+v", p.Name, ref)
		}
	}

	// A node added later is covered.
	if _, err := client.CoreV1().Nodes().Create(context.Background(), newNode("n4"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "pod on n4", func() bool { return eq(podNodes(t, client), "n1", "n3", "n4") })
	for _, p := range listPods(t, client) {
		bindAndReady(t, client, p)
	}
	waitFor(t, "status", func() bool {
		st := getDS(t, client, "agent").Status
		return st.DesiredNumberScheduled == 3 && st.CurrentNumberScheduled == 3 && st.NumberReady == 3 &&
			st.NumberAvailable == 3 && st.UpdatedNumberScheduled == 3 && st.NumberMisscheduled == 0 && st.ObservedGeneration == 1
	})

	// An untolerated NoSchedule taint keeps the running pod (as upstream) ...
	n1 = getNode(t, client, "n1")
	n1.Spec.Taints = []corev1.Taint{{Key: "maint", Effect: corev1.TaintEffectNoSchedule}}
	updateNode(t, client, n1)
	waitFor(t, "n1 no longer desired", func() bool {
		st := getDS(t, client, "agent").Status
		return st.DesiredNumberScheduled == 2 && st.NumberMisscheduled == 1
	})
	if !eq(podNodes(t, client), "n1", "n3", "n4") {
		t.Errorf("pods on %v after NoSchedule taint", podNodes(t, client))
	}
	// ... a NoExecute one evicts it; so does a node leaving the selector,
	// and deleting the node.
	n1.Spec.Taints = []corev1.Taint{{Key: "maint", Effect: corev1.TaintEffectNoExecute}}
	updateNode(t, client, n1)
	waitFor(t, "pod off n1", func() bool { return eq(podNodes(t, client), "n3", "n4") })
	n4 := getNode(t, client, "n4")
	n4.Labels["role"] = "edge"
	updateNode(t, client, n4)
	waitFor(t, "pod off n4", func() bool { return eq(podNodes(t, client), "n3") })
	if err := client.CoreV1().Nodes().Delete(context.Background(), "n3", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "no pods", func() bool {
		st := getDS(t, client, "agent").Status
		return len(podNodes(t, client)) == 0 && st.DesiredNumberScheduled == 0 && st.CurrentNumberScheduled == 0
	})
}

func getNode(t *testing.T, client *fake.Clientset, name string) *corev1.Node {
	t.Helper()
	n, err := client.CoreV1().Nodes().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func updateNode(t *testing.T, client *fake.Clientset, n *corev1.Node) {
	t.Helper()
	if _, err := client.CoreV1().Nodes().Update(context.Background(), n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestTolerationsInTemplate(t *testing.T) {
	ds := newDS("agent")
	ds.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "db", Effect: corev1.TaintEffectNoSchedule}}
	client := newClient(ds,
		newNode("a", corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule}),
		newNode("b", corev1.Taint{Key: "dedicated", Value: "web", Effect: corev1.TaintEffectNoSchedule}),
		newNode("c", corev1.Taint{Key: "soft", Effect: corev1.TaintEffectPreferNoSchedule}))
	start(t, client)
	waitFor(t, "pods on a and c", func() bool { return eq(podNodes(t, client), "a", "c") })
	time.Sleep(100 * time.Millisecond)
	if got := podNodes(t, client); !eq(got, "a", "c") {
		t.Errorf("pods on %v", got)
	}
}

func setImage(t *testing.T, client *fake.Clientset, image string) {
	t.Helper()
	ds := getDS(t, client, "agent")
	ds.Spec.Template.Spec.Containers[0].Image = image
	ds.Generation++
	if _, err := client.AppsV1().DaemonSets(ns).Update(context.Background(), ds, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func byRevision(t *testing.T, client *fake.Clientset, hash string) (cur, old []corev1.Pod) {
	for _, p := range listPods(t, client) {
		if p.Labels[RevisionLabel] == hash {
			cur = append(cur, p)
		} else {
			old = append(old, p)
		}
	}
	return cur, old
}

func TestRollingUpdateOneAtATime(t *testing.T) {
	client := newClient(newDS("agent"), newNode("n1"), newNode("n2"), newNode("n3"))
	start(t, client)
	waitFor(t, "3 pods", func() bool { return len(podNodes(t, client)) == 3 })
	for _, p := range listPods(t, client) {
		bindAndReady(t, client, p)
	}
	waitFor(t, "3 ready", func() bool { return getDS(t, client, "agent").Status.NumberAvailable == 3 })

	setImage(t, client, "img:2")
	ds := getDS(t, client, "agent")
	hash := TemplateHash(&ds.Spec.Template)
	for i := 1; i <= 3; i++ {
		waitFor(t, "a replacement pod", func() bool {
			cur, old := byRevision(t, client, hash)
			return len(cur) == i && len(old) == 3-i
		})
		// While the new pod is not ready, no other old pod goes.
		time.Sleep(150 * time.Millisecond)
		cur, old := byRevision(t, client, hash)
		if len(cur) != i || len(old) != 3-i {
			t.Fatalf("step %d: %d new, %d old pods; want %d and %d", i, len(cur), len(old), i, 3-i)
		}
		for _, p := range cur {
			if p.Status.Phase != corev1.PodRunning {
				if p.Spec.Containers[0].Image != "img:2" {
					t.Errorf("new pod image %s", p.Spec.Containers[0].Image)
				}
				bindAndReady(t, client, p)
			}
		}
	}
	waitFor(t, "rollout done", func() bool {
		st := getDS(t, client, "agent").Status
		return st.UpdatedNumberScheduled == 3 && st.NumberAvailable == 3 && st.ObservedGeneration == 2
	})
	if got := podNodes(t, client); !eq(got, "n1", "n2", "n3") {
		t.Errorf("pods on %v", got)
	}
}

func TestOnDelete(t *testing.T) {
	ds := newDS("agent")
	ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}
	client := newClient(ds, newNode("n1"), newNode("n2"))
	start(t, client)
	waitFor(t, "2 pods", func() bool { return len(podNodes(t, client)) == 2 })
	for _, p := range listPods(t, client) {
		bindAndReady(t, client, p)
	}
	setImage(t, client, "img:2")
	hash := TemplateHash(&getDS(t, client, "agent").Spec.Template)
	waitFor(t, "status seen", func() bool {
		st := getDS(t, client, "agent").Status
		return st.ObservedGeneration == 2 && st.UpdatedNumberScheduled == 0 && st.NumberReady == 2
	})
	time.Sleep(150 * time.Millisecond)
	if cur, _ := byRevision(t, client, hash); len(cur) != 0 {
		t.Fatalf("OnDelete replaced %d pods by itself", len(cur))
	}
	_, old := byRevision(t, client, hash)
	if err := client.CoreV1().Pods(ns).Delete(context.Background(), old[0].Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "replacement of the deleted pod only", func() bool {
		cur, old := byRevision(t, client, hash)
		return len(cur) == 1 && len(old) == 1 && getDS(t, client, "agent").Status.UpdatedNumberScheduled == 1
	})
}

func TestFailedPodReplaced(t *testing.T) {
	client := newClient(newDS("agent"), newNode("n1"))
	start(t, client)
	waitFor(t, "1 pod", func() bool { return len(podNodes(t, client)) == 1 })
	p := listPods(t, client)[0]
	p.Status.Phase = corev1.PodFailed
	if _, err := client.CoreV1().Pods(ns).Update(context.Background(), &p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a new pod", func() bool {
		ps := listPods(t, client)
		return len(ps) == 1 && ps[0].Name != p.Name && ps[0].Status.Phase == ""
	})
}

func TestNewRequiresClient(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("want error")
	}
}

func TestMatchReqs(t *testing.T) {
	set := map[string]string{"zone": "a", "gen": "5"}
	cases := []struct {
		r    corev1.NodeSelectorRequirement
		want bool
	}{
		{corev1.NodeSelectorRequirement{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"a", "b"}}, true},
		{corev1.NodeSelectorRequirement{Key: "zone", Operator: corev1.NodeSelectorOpNotIn, Values: []string{"a"}}, false},
		{corev1.NodeSelectorRequirement{Key: "x", Operator: corev1.NodeSelectorOpExists}, false},
		{corev1.NodeSelectorRequirement{Key: "x", Operator: corev1.NodeSelectorOpDoesNotExist}, true},
		{corev1.NodeSelectorRequirement{Key: "gen", Operator: corev1.NodeSelectorOpGt, Values: []string{"4"}}, true},
		{corev1.NodeSelectorRequirement{Key: "gen", Operator: corev1.NodeSelectorOpGt, Values: []string{"5"}}, false},
		{corev1.NodeSelectorRequirement{Key: "gen", Operator: corev1.NodeSelectorOpLt, Values: []string{"6"}}, true},
		{corev1.NodeSelectorRequirement{Key: "gen", Operator: corev1.NodeSelectorOpLt, Values: []string{"5"}}, false},
	}
	for _, c := range cases {
		if got := matchReqs([]corev1.NodeSelectorRequirement{c.r}, set); got != c.want {
			t.Errorf("%+v: got %v", c.r, got)
		}
	}
}
