package statefulset

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

var podsGVR = corev1.SchemeGroupVersion.WithResource("pods")

// newClient returns a fake clientset that fills in uid and creationTimestamp
// on create, treats status updates as the status subresource does, and
// deletes pods gracefully: a delete only sets deletionTimestamp, and the test
// (as the kubelet) removes the pod with finish.
func newClient(objs ...runtime.Object) *fake.Clientset {
	c := fake.NewClientset(objs...)
	c.PrependReactor("create", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		obj, ok := a.(k8stesting.CreateAction).GetObject().(metav1.Object)
		if !ok {
			return false, nil, nil
		}
		if obj.GetUID() == "" {
			obj.SetUID(types.UID("uid-" + rand.String(8)))
		}
		obj.SetCreationTimestamp(metav1.Now())
		return false, nil, nil
	})
	c.PrependReactor("update", "statefulsets", func(a k8stesting.Action) (bool, runtime.Object, error) {
		u := a.(k8stesting.UpdateAction)
		if u.GetSubresource() != "status" {
			return false, nil, nil
		}
		in := u.GetObject().(*appsv1.StatefulSet)
		cur, err := c.Tracker().Get(u.GetResource(), in.Namespace, in.Name)
		if err != nil {
			return true, nil, err
		}
		out := cur.(*appsv1.StatefulSet).DeepCopy()
		out.Status = in.Status
		return true, out, c.Tracker().Update(u.GetResource(), out, in.Namespace)
	})
	c.PrependReactor("delete", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		d := a.(k8stesting.DeleteAction)
		cur, err := c.Tracker().Get(podsGVR, d.GetNamespace(), d.GetName())
		if err != nil {
			return true, nil, err
		}
		p := cur.(*corev1.Pod).DeepCopy()
		if p.DeletionTimestamp == nil {
			now := metav1.Now()
			p.DeletionTimestamp = &now
			if err := c.Tracker().Update(podsGVR, p, p.Namespace); err != nil {
				return true, nil, err
			}
		}
		return true, nil, nil
	})
	return c
}

func newSet(name string, replicas int32) *appsv1.StatefulSet {
	l := map[string]string{"app": name}
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: types.UID("sts-" + name), Generation: 1},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    &replicas,
			ServiceName: name + "-headless",
			Selector:    &metav1.LabelSelector{MatchLabels: l},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: l},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "img:1"}}},
			},
			UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType},
		},
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

func waitFor(t *testing.T, what string, cond func() bool, more ...func() string) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 10*time.Second, true,
		func(context.Context) (bool, error) { return cond(), nil })
	if err != nil {
		for _, m := range more {
			what += "; " + m()
		}
		t.Fatalf("timed out waiting for %s", what)
	}
}

func listPods(t *testing.T, client *fake.Clientset) map[string]corev1.Pod {
	t.Helper()
	l, err := client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]corev1.Pod{}
	for _, p := range l.Items {
		out[p.Name] = p
	}
	return out
}

// state renders the pods as "name" (pending), "name+" (ready) or "name-"
// (terminating), sorted.
func state(t *testing.T, client *fake.Clientset) []string {
	t.Helper()
	var out []string
	for _, p := range listPods(t, client) {
		s := p.Name
		switch {
		case p.DeletionTimestamp != nil:
			s += "-"
		case isReady(&p):
			s += "+"
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func is(got []string, want ...string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

// waitState waits for the pods to be exactly want, then checks they stay so
// for a while (the controller must not take the next step on its own).
func waitState(t *testing.T, client *fake.Clientset, want ...string) {
	t.Helper()
	var got []string
	waitFor(t, "pods "+formatList(want), func() bool {
		got = state(t, client)
		return is(got, want...)
	}, func() string { return "have " + formatList(got) })
	time.Sleep(100 * time.Millisecond)
	if got := state(t, client); !is(got, want...) {
		t.Fatalf("pods moved on to %v; want them to stay %v", got, want)
	}
}

func formatList(s []string) string {
	out := "["
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out + "]"
}

// ready marks a pod Running and Ready, as the kubelet would.
func ready(t *testing.T, client *fake.Clientset, name string) {
	t.Helper()
	p, err := client.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.Spec.NodeName = "node-1"
	p.Status.Phase = corev1.PodRunning
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}}
	if _, err := client.CoreV1().Pods(ns).Update(context.Background(), p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// finish removes a terminating pod, as the kubelet would once it stopped.
func finish(t *testing.T, client *fake.Clientset, name string) {
	t.Helper()
	if err := client.Tracker().Delete(podsGVR, ns, name); err != nil {
		t.Fatal(err)
	}
}

func getSet(t *testing.T, client *fake.Clientset, name string) *appsv1.StatefulSet {
	t.Helper()
	s, err := client.AppsV1().StatefulSets(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func updateSet(t *testing.T, client *fake.Clientset, name string, mutate func(*appsv1.StatefulSet)) {
	t.Helper()
	s := getSet(t, client, name)
	mutate(s)
	s.Generation++
	if _, err := client.AppsV1().StatefulSets(ns).Update(context.Background(), s, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestOrderedReadyScaleUpAndDown(t *testing.T) {
	client := newClient(newSet("web", 3))
	start(t, client)

	waitState(t, client, "web-0")
	p := listPods(t, client)["web-0"]
	if p.Spec.Hostname != "web-0" || p.Spec.Subdomain != "web-headless" {
		t.Errorf("hostname %q subdomain %q", p.Spec.Hostname, p.Spec.Subdomain)
	}
	if p.Labels[PodNameLabel] != "web-0" || p.Labels[PodIndexLabel] != "0" || p.Labels["app"] != "web" || p.Labels[RevisionLabel] == "" {
		t.Errorf("labels %v", p.Labels)
	}
	if ref := metav1.GetControllerOf(&p); ref == nil || ref.Kind != "StatefulSet" || ref.Name != "web" {
		t.Errorf("owner %+v", ref)
	}
	ready(t, client, "web-0")
	waitState(t, client, "web-0+", "web-1")
	ready(t, client, "web-1")
	waitState(t, client, "web-0+", "web-1+", "web-2")
	ready(t, client, "web-2")
	waitFor(t, "status", func() bool {
		st := getSet(t, client, "web").Status
		return st.Replicas == 3 && st.ReadyReplicas == 3 && st.AvailableReplicas == 3 && st.CurrentReplicas == 3 &&
			st.UpdatedReplicas == 3 && st.CurrentRevision != "" && st.CurrentRevision == st.UpdateRevision && st.ObservedGeneration == 1
	})

	// Scale down from the highest ordinal, one pod at a time.
	updateSet(t, client, "web", func(s *appsv1.StatefulSet) { s.Spec.Replicas = ptr(int32(1)) })
	waitState(t, client, "web-0+", "web-1+", "web-2-")
	finish(t, client, "web-2")
	waitState(t, client, "web-0+", "web-1-")
	finish(t, client, "web-1")
	waitState(t, client, "web-0+")
	waitFor(t, "status after scale down", func() bool {
		st := getSet(t, client, "web").Status
		return st.Replicas == 1 && st.ReadyReplicas == 1 && st.ObservedGeneration == 2
	})
}

func TestOrderedReadyWaitsForReadiness(t *testing.T) {
	client := newClient(newSet("db", 2))
	start(t, client)
	waitState(t, client, "db-0")
	ready(t, client, "db-0")
	waitState(t, client, "db-0+", "db-1")
	ready(t, client, "db-1")
	// db-0 fails: it is deleted and recreated; scaling up waits for it.
	p := listPods(t, client)["db-0"]
	p.Status.Phase = corev1.PodFailed
	if _, err := client.CoreV1().Pods(ns).Update(context.Background(), &p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitState(t, client, "db-0-", "db-1+")
	updateSet(t, client, "db", func(s *appsv1.StatefulSet) { s.Spec.Replicas = ptr(int32(3)) })
	waitFor(t, "scale up seen", func() bool { return getSet(t, client, "db").Status.ObservedGeneration == 2 })
	waitState(t, client, "db-0-", "db-1+")
	finish(t, client, "db-0")
	waitState(t, client, "db-0", "db-1+")
	ready(t, client, "db-0")
	waitState(t, client, "db-0+", "db-1+", "db-2")
}

func TestParallel(t *testing.T) {
	set := newSet("web", 3)
	set.Spec.PodManagementPolicy = appsv1.ParallelPodManagement
	client := newClient(set)
	start(t, client)
	waitState(t, client, "web-0", "web-1", "web-2")
	updateSet(t, client, "web", func(s *appsv1.StatefulSet) { s.Spec.Replicas = ptr(int32(0)) })
	waitState(t, client, "web-0-", "web-1-", "web-2-")
	for _, n := range []string{"web-0", "web-1", "web-2"} {
		finish(t, client, n)
	}
	waitFor(t, "status", func() bool { return getSet(t, client, "web").Status.Replicas == 0 })
}

func TestRollingUpdateReverseWithPartition(t *testing.T) {
	set := newSet("web", 3)
	set.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr(int32(1))}
	client := newClient(set)
	start(t, client)
	for i, n := range []string{"web-0", "web-1", "web-2"} {
		waitFor(t, n, func() bool { return len(listPods(t, client)) == i+1 })
		ready(t, client, n)
	}
	waitFor(t, "all ready", func() bool { return getSet(t, client, "web").Status.ReadyReplicas == 3 })
	oldRev := getSet(t, client, "web").Status.CurrentRevision

	updateSet(t, client, "web", func(s *appsv1.StatefulSet) { s.Spec.Template.Spec.Containers[0].Image = "img:2" })
	newRev := TemplateHash(&getSet(t, client, "web").Spec.Template)
	for _, n := range []string{"web-2", "web-1"} {
		waitFor(t, n+" terminating", func() bool { return listPods(t, client)[n].DeletionTimestamp != nil })
		if got := state(t, client); len(got) != 3 || got[0] != "web-0+" {
			t.Fatalf("%v while %s goes", got, n)
		}
		finish(t, client, n)
		waitFor(t, n+" recreated", func() bool {
			p, ok := listPods(t, client)[n]
			return ok && p.DeletionTimestamp == nil
		})
		time.Sleep(100 * time.Millisecond)
		for name, p := range listPods(t, client) {
			if p.DeletionTimestamp != nil {
				t.Fatalf("%s deleted before %s is ready", name, n)
			}
		}
		if p := listPods(t, client)[n]; p.Labels[RevisionLabel] != newRev || p.Spec.Containers[0].Image != "img:2" {
			t.Fatalf("%s not updated: %v", n, p.Labels)
		}
		ready(t, client, n)
	}
	waitFor(t, "partial rollout status", func() bool {
		st := getSet(t, client, "web").Status
		return st.UpdatedReplicas == 2 && st.CurrentReplicas == 1 && st.ReadyReplicas == 3 &&
			st.CurrentRevision == oldRev && st.UpdateRevision == newRev && st.ObservedGeneration == 2
	})
	time.Sleep(100 * time.Millisecond)
	if p := listPods(t, client)["web-0"]; p.DeletionTimestamp != nil || p.Labels[RevisionLabel] != oldRev {
		t.Fatal("web-0, below the partition, was touched")
	}

	updateSet(t, client, "web", func(s *appsv1.StatefulSet) { s.Spec.UpdateStrategy.RollingUpdate.Partition = ptr(int32(0)) })
	waitFor(t, "web-0 terminating", func() bool { return listPods(t, client)["web-0"].DeletionTimestamp != nil })
	finish(t, client, "web-0")
	waitFor(t, "web-0 recreated", func() bool {
		p, ok := listPods(t, client)["web-0"]
		return ok && p.DeletionTimestamp == nil
	})
	ready(t, client, "web-0")
	waitFor(t, "rollout complete", func() bool {
		st := getSet(t, client, "web").Status
		return st.UpdatedReplicas == 3 && st.CurrentReplicas == 3 && st.CurrentRevision == newRev && st.UpdateRevision == newRev
	})
}

func TestOnDelete(t *testing.T) {
	set := newSet("web", 1)
	set.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
	client := newClient(set)
	start(t, client)
	waitState(t, client, "web-0")
	ready(t, client, "web-0")
	updateSet(t, client, "web", func(s *appsv1.StatefulSet) { s.Spec.Template.Spec.Containers[0].Image = "img:2" })
	waitFor(t, "status", func() bool { return getSet(t, client, "web").Status.ObservedGeneration == 2 })
	waitState(t, client, "web-0+")
}

func TestVolumeClaimTemplates(t *testing.T) {
	set := newSet("db", 1)
	set.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}}}
	client := newClient(set)
	start(t, client)
	waitState(t, client, "db-0")
	p := listPods(t, client)["db-0"]
	if len(p.Spec.Volumes) != 1 || p.Spec.Volumes[0].PersistentVolumeClaim == nil || p.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != "data-db-0" {
		t.Errorf("volumes %+v", p.Spec.Volumes)
	}
	pvc, err := client.CoreV1().PersistentVolumeClaims(ns).Get(context.Background(), "data-db-0", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pvc.Labels["app"] != "db" {
		t.Errorf("claim labels %v", pvc.Labels)
	}
}

func TestOrdinal(t *testing.T) {
	for name, want := range map[string]int{"web-0": 0, "web-12": 12, "web-01": -1, "web-x": -1, "webx-1": -1, "web--1": -1, "web-": -1} {
		if got := ordinal("web", name); got != want {
			t.Errorf("ordinal(%q) = %d, want %d", name, got, want)
		}
	}
}

func ptr[T any](v T) *T { return &v }
