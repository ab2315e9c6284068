package replicaset

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
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
	"k8s.io/client-go/tools/record"
)

const ns = "default"

// newClient returns a fake clientset that, like the apiserver, fills in
// generateName, uid and creationTimestamp on create.
func newClient(objs ...runtime.Object) *fake.Clientset {
	c := fake.NewClientset(objs...)
	c.PrependReactor("create", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		obj, err := metaOf(a.(k8stesting.CreateAction).GetObject())
		if err != nil {
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
	// Status updates change only the status, as through the real status
	// subresource; otherwise a status write from a stale cache reverts spec.
	c.PrependReactor("update", "replicasets", func(a k8stesting.Action) (bool, runtime.Object, error) {
		u := a.(k8stesting.UpdateAction)
		if u.GetSubresource() != "status" {
			return false, nil, nil
		}
		in := u.GetObject().(*appsv1.ReplicaSet)
		cur, err := c.Tracker().Get(u.GetResource(), in.Namespace, in.Name)
		if err != nil {
			return true, nil, err
		}
		out := cur.(*appsv1.ReplicaSet).DeepCopy()
		out.Status = in.Status
		return true, out, c.Tracker().Update(u.GetResource(), out, in.Namespace)
	})
	return c
}

func metaOf(o runtime.Object) (metav1.Object, error) {
	m, ok := o.(metav1.Object)
	if !ok {
		return nil, errors.New("no metadata")
	}
	return m, nil
}

func newRS(name string, replicas int32) *appsv1.ReplicaSet {
	l := map[string]string{"app": name}
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: types.UID("rs-" + name), Generation: 1},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: l},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: l},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "img:1"}}},
			},
		},
	}
}

// start runs a controller over client until the test ends.
func start(t *testing.T, client *fake.Clientset, rec ...record.EventRecorder) *Controller {
	t.Helper()
	f := informers.NewSharedInformerFactory(client, 0)
	cfg := Config{Client: client, Informers: f, Logger: slog.New(slog.DiscardHandler)}
	if len(rec) > 0 {
		cfg.Recorder = rec[0]
	}
	c, err := New(cfg)
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
	return c
}

func pods(t *testing.T, client *fake.Clientset) []corev1.Pod {
	t.Helper()
	l, err := client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return l.Items
}

func ownedBy(ps []corev1.Pod, rs *appsv1.ReplicaSet) []corev1.Pod {
	var out []corev1.Pod
	for _, p := range ps {
		if r := metav1.GetControllerOf(&p); r != nil && r.UID == rs.UID {
			out = append(out, p)
		}
	}
	return out
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 10*time.Second, true,
		func(context.Context) (bool, error) { return cond(), nil })
	if err != nil {
		t.Fatalf("timed out waiting for %s", what)
	}
}

func getRS(t *testing.T, client *fake.Clientset, name string) *appsv1.ReplicaSet {
	t.Helper()
	rs, err := client.AppsV1().ReplicaSets(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// setReady sets a pod's Ready condition as a kubelet would.
func setReady(t *testing.T, client *fake.Clientset, p corev1.Pod, since time.Time) {
	t.Helper()
	p.Spec.NodeName = "node-1"
	p.Status.Phase = corev1.PodRunning
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(since)}}
	if _, err := client.CoreV1().Pods(ns).Update(context.Background(), &p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestScaleUpDownAndStatus(t *testing.T) {
	rs := newRS("web", 3)
	client := newClient(rs)
	rec := record.NewFakeRecorder(100)
	start(t, client, rec)

	waitFor(t, "3 pods and status", func() bool {
		return len(ownedBy(pods(t, client), rs)) == 3 && getRS(t, client, "web").Status.Replicas == 3
	})
	ps := ownedBy(pods(t, client), rs)
	for _, p := range ps {
		if !strings.HasPrefix(p.Name, "web-") || p.GenerateName != "web-" {
			t.Errorf("pod %q generateName %q: want web-", p.Name, p.GenerateName)
		}
		ref := metav1.GetControllerOf(&p)
		if ref.Kind != "ReplicaSet" || ref.Name != "web" || ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion {
			t.Errorf("pod %s owner ref %+v", p.Name, ref)
		}
		if p.Labels["app"] != "web" || p.Spec.Containers[0].Image != "img:1" {
			t.Errorf("pod %s not from template: %v %v", p.Name, p.Labels, p.Spec.Containers)
		}
	}
	st := getRS(t, client, "web").Status
	if st.ObservedGeneration != 1 || st.FullyLabeledReplicas != 3 || st.ReadyReplicas != 0 {
		t.Errorf("status %+v", st)
	}

	// Two become ready; the third stays pending.
	now := time.Now()
	setReady(t, client, ps[0], now.Add(-time.Hour))
	setReady(t, client, ps[1], now)
	waitFor(t, "2 ready and available", func() bool {
		st := getRS(t, client, "web").Status
		return st.ReadyReplicas == 2 && st.AvailableReplicas == 2
	})

	// Scale to 1: the pending pod goes first, then the one ready for less time.
	cur := getRS(t, client, "web")
	cur.Spec.Replicas = ptr(int32(1))
	cur.Generation = 2
	if _, err := client.AppsV1().ReplicaSets(ns).Update(context.Background(), cur, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "1 pod", func() bool {
		st := getRS(t, client, "web").Status
		return len(ownedBy(pods(t, client), rs)) == 1 && st.Replicas == 1 && st.ObservedGeneration == 2
	})
	if left := ownedBy(pods(t, client), rs)[0]; left.Name != ps[0].Name {
		t.Errorf("kept %s, want the longest-ready %s", left.Name, ps[0].Name)
	}
	var creates, deletes int
	for len(rec.Events) > 0 {
		ev := <-rec.Events
		creates += strings.Count(ev, "Normal SuccessfulCreate Created pod: web-")
		deletes += strings.Count(ev, "Normal SuccessfulDelete Deleted pod: web-")
	}
	if creates != 3 || deletes != 2 {
		t.Errorf("events: %d SuccessfulCreate, %d SuccessfulDelete; want 3 and 2", creates, deletes)
	}
}

func TestAdoptAndRelease(t *testing.T) {
	rs := newRS("web", 2)
	orphan := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "orphan", Namespace: ns, UID: "orphan", Labels: map[string]string{"app": "web"}}}
	other := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: ns, UID: "other", Labels: map[string]string{"app": "db"}}}
	client := newClient(rs, orphan, other)
	start(t, client)

	waitFor(t, "adoption plus one new pod", func() bool {
		return len(ownedBy(pods(t, client), rs)) == 2 && len(pods(t, client)) == 3
	})
	p, _ := client.CoreV1().Pods(ns).Get(context.Background(), "orphan", metav1.GetOptions{})
	if r := metav1.GetControllerOf(p); r == nil || r.UID != rs.UID {
		t.Fatalf("orphan not adopted: %+v", p.OwnerReferences)
	}
	if p, _ := client.CoreV1().Pods(ns).Get(context.Background(), "other", metav1.GetOptions{}); len(p.OwnerReferences) != 0 {
		t.Errorf("non-matching pod adopted: %+v", p.OwnerReferences)
	}

	// Relabel the adopted pod: it is released and replaced.
	p.Labels = map[string]string{"app": "debug"}
	if _, err := client.CoreV1().Pods(ns).Update(context.Background(), p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "release and replacement", func() bool {
		p, _ := client.CoreV1().Pods(ns).Get(context.Background(), "orphan", metav1.GetOptions{})
		return len(p.OwnerReferences) == 0 && len(ownedBy(pods(t, client), rs)) == 2
	})
}

func TestTerminatingPodsNotCounted(t *testing.T) {
	rs := newRS("web", 1)
	now := metav1.Now()
	dying := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Name: "dying", Namespace: ns, UID: "dying", Labels: map[string]string{"app": "web"},
		DeletionTimestamp: &now, Finalizers: []string{"x"},
		OwnerReferences: []metav1.OwnerReference{*ownerRef(rs)},
	}}
	client := newClient(rs, dying)
	start(t, client)
	waitFor(t, "a replacement", func() bool { return len(ownedBy(pods(t, client), rs)) == 2 })
	waitFor(t, "status of one", func() bool { return getRS(t, client, "web").Status.Replicas == 1 })
}

func TestReplicaFailureCondition(t *testing.T) {
	rs := newRS("web", 3)
	client := newClient(rs)
	var fail atomic.Bool
	fail.Store(true)
	var calls atomic.Int32
	client.PrependReactor("create", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		if fail.Load() {
			calls.Add(1)
			return true, nil, fmt.Errorf("exceeded quota")
		}
		return false, nil, nil
	})
	start(t, client)
	waitFor(t, "ReplicaFailure", func() bool {
		for _, c := range getRS(t, client, "web").Status.Conditions {
			if c.Type == appsv1.ReplicaSetReplicaFailure && c.Status == corev1.ConditionTrue && c.Reason == "FailedCreate" {
				return true
			}
		}
		return false
	})
	fail.Store(false)
	waitFor(t, "recovery", func() bool {
		rs := getRS(t, client, "web")
		return len(rs.Status.Conditions) == 0 && rs.Status.Replicas == 3
	})
	// Slow start: each failing sync makes a single request.
	if n := calls.Load(); n > 20 {
		t.Errorf("%d failing creates; slow start should have kept this low", n)
	}
}

// TestExpectations syncs twice against a cache that has not seen the
// creates: the second sync must not create again.
func TestExpectations(t *testing.T) {
	rs := newRS("web", 5)
	client := newClient(rs)
	f := informers.NewSharedInformerFactory(client, 0)
	c, err := New(Config{Client: client, Informers: f, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Apps().V1().ReplicaSets().Informer().GetIndexer().Add(rs); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 2 {
		if err := c.sync(ctx, "default/web"); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(pods(t, client)); n != 5 {
		t.Fatalf("%d pods, want 5", n)
	}
	// The informer sees them: the expectations are met, nothing more is made.
	for _, p := range pods(t, client) {
		_ = f.Core().V1().Pods().Informer().GetIndexer().Add(&p)
		c.addPod(&p)
	}
	if !c.exp.Satisfied("default/web") {
		t.Fatal("expectations not satisfied after observing all creates")
	}
	if err := c.sync(ctx, "default/web"); err != nil {
		t.Fatal(err)
	}
	if n := len(pods(t, client)); n != 5 {
		t.Fatalf("%d pods, want 5", n)
	}
}

func TestSlowStartBatch(t *testing.T) {
	for _, tc := range []struct {
		count, failFrom, wantDone, wantCalls int
	}{
		{count: 10, failFrom: 100, wantDone: 10, wantCalls: 10},
		{count: 10, failFrom: 0, wantDone: 0, wantCalls: 1},
		{count: 10, failFrom: 3, wantDone: 3, wantCalls: 7}, // batches 1, 2, 4
	} {
		var calls atomic.Int32
		done, err := slowStartBatch(tc.count, 1, func() error {
			if int(calls.Add(1)) > tc.failFrom {
				return errors.New("no")
			}
			return nil
		})
		if done != tc.wantDone || int(calls.Load()) != tc.wantCalls || (err == nil) != (tc.failFrom >= tc.count) {
			t.Errorf("%+v: done %d calls %d err %v", tc, done, calls.Load(), err)
		}
	}
}

func TestAvailableNeedsMinReadySeconds(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rs := newRS("web", 2)
	rs.Spec.MinReadySeconds = 10
	mk := func(name string, readyFor time.Duration) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "web"}},
			Status: corev1.PodStatus{Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue,
				LastTransitionTime: metav1.NewTime(now.Add(-readyFor))}}}}
	}
	partial := mk("c", time.Hour)
	partial.Labels = map[string]string{"app": "web", "x": "y"}
	rs.Spec.Template.Labels = map[string]string{"app": "web", "x": "y"}
	st := computeStatus(rs, []*corev1.Pod{mk("a", 5*time.Second), mk("b", 10*time.Second), partial}, nil, now)
	if st.Replicas != 3 || st.ReadyReplicas != 3 || st.AvailableReplicas != 2 || st.FullyLabeledReplicas != 1 {
		t.Errorf("status %+v", st)
	}
}

func TestDeletionOrder(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	pod := func(name, node string, phase corev1.PodPhase, readySince *time.Time, created time.Time) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(created)},
			Spec: corev1.PodSpec{NodeName: node}, Status: corev1.PodStatus{Phase: phase}}
		if readySince != nil {
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(*readySince)}}
		}
		return p
	}
	early, late := t0, t0.Add(time.Minute)
	ps := []*corev1.Pod{
		pod("ready-long", "n", corev1.PodRunning, &early, t0),
		pod("ready-short", "n", corev1.PodRunning, &late, t0),
		pod("running-notready-old", "n", corev1.PodRunning, nil, t0),
		pod("running-notready-new", "n", corev1.PodRunning, nil, late),
		pod("pending", "n", corev1.PodPending, nil, t0),
		pod("unscheduled", "", corev1.PodPending, nil, t0),
	}
	deletionOrder(ps)
	var got []string
	for _, p := range ps {
		got = append(got, p.Name)
	}
	want := "unscheduled pending running-notready-new running-notready-old ready-short ready-long"
	if strings.Join(got, " ") != want {
		t.Errorf("order %v\nwant  %s", got, want)
	}
}

func ptr[T any](v T) *T { return &v }

// TestMinReadySecondsRequeue checks that a pod turns available after
// minReadySeconds without any further event.
func TestMinReadySecondsRequeue(t *testing.T) {
	rs := newRS("web", 1)
	rs.Spec.MinReadySeconds = 1
	client := newClient(rs)
	start(t, client)
	waitFor(t, "a pod", func() bool { return len(pods(t, client)) == 1 })
	setReady(t, client, pods(t, client)[0], time.Now())
	waitFor(t, "ready but not yet available", func() bool {
		st := getRS(t, client, "web").Status
		return st.ReadyReplicas == 1 && st.AvailableReplicas == 0
	})
	waitFor(t, "available", func() bool { return getRS(t, client, "web").Status.AvailableReplicas == 1 })
}
