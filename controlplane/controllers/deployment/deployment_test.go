package deployment

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"

	"rudder/controlplane/controllers/replicaset"
)

const ns = "default"

// cluster is a fake apiserver with the ReplicaSet and Deployment controllers
// running against it and a kubelet stand-in that marks pods ready.
type cluster struct {
	t      *testing.T
	client *fake.Clientset
	ready  atomic.Bool // the kubelet marks new pods ready
	events *record.FakeRecorder
}

func newCluster(t *testing.T, objs ...runtime.Object) *cluster {
	t.Helper()
	c := &cluster{t: t, client: newClient(objs...), events: record.NewFakeRecorder(1000)}
	c.ready.Store(true)
	f := informers.NewSharedInformerFactory(c.client, 0)
	log := slog.New(slog.DiscardHandler)
	rsc, err := replicaset.New(replicaset.Config{Client: c.client, Informers: f, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	dc, err := New(Config{Client: c.client, Informers: f, Logger: log, Recorder: c.events})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	f.Start(ctx.Done())
	wg.Go(func() { _ = rsc.Run(ctx, 2) })
	wg.Go(func() { _ = dc.Run(ctx, 2) })
	wg.Go(func() { c.kubelet(ctx) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		f.Shutdown()
	})
	return c
}

// newClient returns a fake clientset that fills in generateName, uid and
// creationTimestamp on create and treats updates of the status subresource
// as the apiserver does (only the status changes).
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
	c.PrependReactor("update", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		u := a.(k8stesting.UpdateAction)
		if u.GetSubresource() != "status" {
			return false, nil, nil
		}
		in := u.GetObject().(metav1.Object)
		cur, err := c.Tracker().Get(u.GetResource(), in.GetNamespace(), in.GetName())
		if err != nil {
			return true, nil, err
		}
		var out runtime.Object
		switch in := u.GetObject().(type) {
		case *corev1.Pod:
			o := cur.(*corev1.Pod).DeepCopy()
			o.Status = in.Status
			out = o
		case *appsv1.ReplicaSet:
			o := cur.(*appsv1.ReplicaSet).DeepCopy()
			o.Status = in.Status
			out = o
		case *appsv1.Deployment:
			o := cur.(*appsv1.Deployment).DeepCopy()
			o.Status = in.Status
			out = o
		default:
			return false, nil, nil
		}
		return true, out, c.Tracker().Update(u.GetResource(), out, in.GetNamespace())
	})
	return c
}

// kubelet marks pods scheduled, running and ready, as a kubelet would.
func (c *cluster) kubelet(ctx context.Context) {
	for ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
		if !c.ready.Load() {
			continue
		}
		l, err := c.client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			continue
		}
		for _, p := range l.Items {
			if isReady(&p) {
				continue
			}
			p.Spec.NodeName = "node-1"
			p.Status.Phase = corev1.PodRunning
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}}
			_, _ = c.client.CoreV1().Pods(ns).UpdateStatus(ctx, &p, metav1.UpdateOptions{})
		}
	}
}

func isReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func newDeployment(name string, n int32, image string) *appsv1.Deployment {
	l := map[string]string{"app": name}
	zero, one := intstr.FromInt32(0), intstr.FromInt32(1)
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: types.UID("d-" + name), Generation: 1},
		Spec: appsv1.DeploymentSpec{
			Replicas: &n,
			Selector: &metav1.LabelSelector{MatchLabels: l},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: l},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: image}}},
			},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &one, MaxUnavailable: &zero}},
			RevisionHistoryLimit:    ptr(int32(10)),
			ProgressDeadlineSeconds: ptr(int32(600)),
		},
	}
}

func ptr[T any](v T) *T { return &v }

func (c *cluster) get(name string) *appsv1.Deployment {
	d, err := c.client.AppsV1().Deployments(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
	return d
}

// update changes the Deployment's spec as a user would (the apiserver bumps
// the generation).
func (c *cluster) update(name string, change func(*appsv1.Deployment)) {
	c.t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 5*time.Millisecond, 5*time.Second, true, func(ctx context.Context) (bool, error) {
		d := c.get(name)
		change(d)
		d.Generation++
		_, err := c.client.AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{})
		return err == nil, nil
	})
	if err != nil {
		c.t.Fatal(err)
	}
}

func (c *cluster) replicaSets() []appsv1.ReplicaSet {
	l, err := c.client.AppsV1().ReplicaSets(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
	return l.Items
}

func (c *cluster) rsWithImage(image string) *appsv1.ReplicaSet {
	for _, rs := range c.replicaSets() {
		if rs.Spec.Template.Spec.Containers[0].Image == image {
			return &rs
		}
	}
	return nil
}

func (c *cluster) waitFor(what string, timeout time.Duration, cond func() bool) {
	c.t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, timeout, true,
		func(context.Context) (bool, error) { return cond(), nil })
	if err != nil {
		c.t.Fatalf("timed out waiting for %s", what)
	}
}

// waitRolledOut waits until kubectl rollout status would report success.
func (c *cluster) waitRolledOut(name string) *appsv1.Deployment {
	c.t.Helper()
	var d *appsv1.Deployment
	c.waitFor("rollout of "+name, 10*time.Second, func() bool {
		d = c.get(name)
		n := *d.Spec.Replicas
		cond := condition(&d.Status, appsv1.DeploymentProgressing)
		return d.Status.ObservedGeneration >= d.Generation && d.Status.UpdatedReplicas == n &&
			d.Status.Replicas == n && d.Status.AvailableReplicas == n &&
			cond != nil && cond.Reason == ReasonNewRSAvailable
	})
	return d
}

// watchPods calls check with the live pods (not terminating) after every
// pod event, until the test ends.
func (c *cluster) watchPods(check func(map[string]*corev1.Pod)) {
	ctx, cancel := context.WithCancel(context.Background())
	w, err := c.client.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
	done := make(chan struct{})
	c.t.Cleanup(func() { cancel(); w.Stop(); <-done })
	live := map[string]*corev1.Pod{}
	go func() {
		defer close(done)
		for ev := range w.ResultChan() {
			p, ok := ev.Object.(*corev1.Pod)
			if !ok {
				continue
			}
			if ev.Type == watch.Deleted || p.DeletionTimestamp != nil {
				delete(live, p.Name)
			} else {
				live[p.Name] = p
			}
			check(live)
		}
	}()
}

func TestRollingUpdateNeverBelowReplicas(t *testing.T) {
	c := newCluster(t, newDeployment("web", 3, "img:A"))
	d := c.waitRolledOut("web")
	rsA := c.rsWithImage("img:A")
	hash := rsA.Labels[HashLabel]
	if hash == "" || rsA.Name != "web-"+hash || rsA.Spec.Selector.MatchLabels[HashLabel] != hash ||
		rsA.Spec.Template.Labels[HashLabel] != hash {
		t.Fatalf("replicaset %s not named or labelled by its template hash %q", rsA.Name, hash)
	}
	if rsA.Annotations[RevisionAnnotation] != "1" || d.Annotations[RevisionAnnotation] != "1" {
		t.Fatalf("revisions: rs %q deployment %q", rsA.Annotations[RevisionAnnotation], d.Annotations[RevisionAnnotation])
	}
	if cond := condition(&d.Status, appsv1.DeploymentAvailable); cond == nil || cond.Status != corev1.ConditionTrue {
		t.Fatalf("Available condition %+v", cond)
	}

	var mu sync.Mutex
	minReady, maxPods := 1000, 0
	seen := false // the watch first replays the existing pods one by one
	c.watchPods(func(live map[string]*corev1.Pod) {
		ready := 0
		for _, p := range live {
			if isReady(p) {
				ready++
			}
		}
		if seen = seen || ready == 3; !seen {
			return
		}
		mu.Lock()
		minReady, maxPods = min(minReady, ready), max(maxPods, len(live))
		mu.Unlock()
	})
	c.update("web", func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "img:B" })
	d = c.waitRolledOut("web")
	c.waitFor("old pods gone", 5*time.Second, func() bool {
		l, _ := c.client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
		for _, p := range l.Items {
			if p.Spec.Containers[0].Image == "img:A" {
				return false
			}
		}
		return len(l.Items) == 3
	})

	mu.Lock()
	defer mu.Unlock()
	if minReady < 3 {
		t.Errorf("ready pods fell to %d during the rollout; maxUnavailable=0 allows none fewer than 3", minReady)
	}
	if maxPods < 4 {
		t.Errorf("at most %d pods: the surge of one was not used", maxPods)
	}
	rsA, rsB := c.rsWithImage("img:A"), c.rsWithImage("img:B")
	if *rsA.Spec.Replicas != 0 || *rsB.Spec.Replicas != 3 {
		t.Errorf("replicas A %d B %d", *rsA.Spec.Replicas, *rsB.Spec.Replicas)
	}
	if rsB.Annotations[RevisionAnnotation] != "2" || d.Annotations[RevisionAnnotation] != "2" {
		t.Errorf("revisions after rollout: rs %q deployment %q", rsB.Annotations[RevisionAnnotation], d.Annotations[RevisionAnnotation])
	}
	if d.Status.UnavailableReplicas != 0 || d.Status.ReadyReplicas != 3 {
		t.Errorf("status %+v", d.Status)
	}
	var evs []string
	for len(c.events.Events) > 0 {
		evs = append(evs, <-c.events.Events)
	}
	for _, want := range []string{
		"Normal ScalingReplicaSet Scaled up replica set " + rsA.Name + " from 0 to 3",
		"Normal ScalingReplicaSet Scaled up replica set " + rsB.Name + " from 0 to 1",
		"Normal ScalingReplicaSet Scaled down replica set " + rsA.Name + " from 1 to 0",
	} {
		if !slices.Contains(evs, want) {
			t.Errorf("no event %q in %q", want, evs)
		}
	}
}

func TestRecreate(t *testing.T) {
	d := newDeployment("web", 2, "img:A")
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	c := newCluster(t, d)
	c.waitRolledOut("web")

	var overlap atomic.Bool
	c.watchPods(func(live map[string]*corev1.Pod) {
		images := map[string]bool{}
		for _, p := range live {
			images[p.Spec.Containers[0].Image] = true
		}
		if len(images) > 1 {
			overlap.Store(true)
		}
	})
	c.update("web", func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "img:B" })
	c.waitRolledOut("web")
	if overlap.Load() {
		t.Error("pods of the old and new templates ran at the same time")
	}
	if rs := c.rsWithImage("img:B"); rs == nil || *rs.Spec.Replicas != 2 {
		t.Errorf("new replicaset %+v", rs)
	}
}

// TestRollbackReusesOldReplicaSet does what kubectl rollout undo does: it
// puts the previous ReplicaSet's template (without its hash label) back on
// the Deployment.
func TestRollbackReusesOldReplicaSet(t *testing.T) {
	c := newCluster(t, newDeployment("web", 2, "img:A"))
	c.waitRolledOut("web")
	c.update("web", func(d *appsv1.Deployment) {
		d.Spec.Template.Spec.Containers[0].Image = "img:B"
		d.Annotations = map[string]string{"kubernetes.io/change-cause": "to B", RevisionAnnotation: "1"}
	})
	c.waitRolledOut("web")
	if rs := c.rsWithImage("img:B"); rs.Annotations["kubernetes.io/change-cause"] != "to B" {
		t.Errorf("change-cause not copied to the new replicaset (rollout history): %v", rs.Annotations)
	}

	old := c.rsWithImage("img:A")
	c.update("web", func(d *appsv1.Deployment) {
		d.Spec.Template = *old.Spec.Template.DeepCopy()
		delete(d.Spec.Template.Labels, HashLabel)
	})
	d := c.waitRolledOut("web")
	if n := len(c.replicaSets()); n != 2 {
		t.Fatalf("%d replicasets after rollback, want the 2 existing", n)
	}
	rsA, rsB := c.rsWithImage("img:A"), c.rsWithImage("img:B")
	if rsA.UID != old.UID || *rsA.Spec.Replicas != 2 || *rsB.Spec.Replicas != 0 {
		t.Errorf("rollback: A %s/%d B %d", rsA.UID, *rsA.Spec.Replicas, *rsB.Spec.Replicas)
	}
	if rsA.Annotations[RevisionAnnotation] != "3" || d.Annotations[RevisionAnnotation] != "3" {
		t.Errorf("revision after rollback: rs %q deployment %q, want 3", rsA.Annotations[RevisionAnnotation], d.Annotations[RevisionAnnotation])
	}
}

func TestScaleCompleteDeployment(t *testing.T) {
	c := newCluster(t, newDeployment("web", 3, "img:A"))
	c.waitRolledOut("web")
	for _, n := range []int32{1, 4} {
		c.update("web", func(d *appsv1.Deployment) { d.Spec.Replicas = ptr(n) })
		c.waitRolledOut("web")
		if rs := c.rsWithImage("img:A"); *rs.Spec.Replicas != n || len(c.replicaSets()) != 1 {
			t.Errorf("scale to %d: replicaset at %d, %d replicasets", n, *rs.Spec.Replicas, len(c.replicaSets()))
		}
	}
}

func TestRevisionHistoryLimit(t *testing.T) {
	d := newDeployment("web", 1, "img:A")
	d.Spec.RevisionHistoryLimit = ptr(int32(1))
	c := newCluster(t, d)
	c.waitRolledOut("web")
	for _, img := range []string{"img:B", "img:C"} {
		c.update("web", func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = img })
		c.waitRolledOut("web")
	}
	c.waitFor("history trimmed to one old replicaset", 5*time.Second, func() bool {
		return len(c.replicaSets()) == 2 && c.rsWithImage("img:A") == nil
	})
	if rs := c.rsWithImage("img:B"); rs == nil || rs.Annotations[RevisionAnnotation] != "2" {
		t.Errorf("kept old replicaset %+v, want revision 2", rs)
	}
}

func TestPauseAndResume(t *testing.T) {
	c := newCluster(t, newDeployment("web", 2, "img:A"))
	c.waitRolledOut("web")
	c.update("web", func(d *appsv1.Deployment) {
		d.Spec.Paused = true
		d.Spec.Template.Spec.Containers[0].Image = "img:B"
	})
	c.waitFor("paused condition", 5*time.Second, func() bool {
		d := c.get("web")
		cond := condition(&d.Status, appsv1.DeploymentProgressing)
		return cond != nil && cond.Reason == ReasonPaused && cond.Status == corev1.ConditionUnknown &&
			d.Status.ObservedGeneration == d.Generation
	})
	// Status is still kept while paused: scale and watch the counts follow.
	c.update("web", func(d *appsv1.Deployment) { d.Spec.Replicas = ptr(int32(3)) })
	c.waitFor("paused scale", 5*time.Second, func() bool {
		d := c.get("web")
		return d.Status.AvailableReplicas == 3 && d.Status.ObservedGeneration == d.Generation
	})
	if rs := c.rsWithImage("img:B"); rs != nil {
		t.Fatalf("a paused deployment rolled out %s", rs.Name)
	}
	c.update("web", func(d *appsv1.Deployment) { d.Spec.Paused = false })
	c.waitRolledOut("web")
	if rs := c.rsWithImage("img:B"); rs == nil || *rs.Spec.Replicas != 3 {
		t.Errorf("after resume: %+v", rs)
	}
}

func TestProgressDeadlineExceeded(t *testing.T) {
	d := newDeployment("web", 2, "img:A")
	d.Spec.ProgressDeadlineSeconds = ptr(int32(1))
	c := newCluster(t, d)
	c.ready.Store(false) // no pod ever becomes ready
	c.waitFor("ProgressDeadlineExceeded", 10*time.Second, func() bool {
		d := c.get("web")
		cond := condition(&d.Status, appsv1.DeploymentProgressing)
		avail := condition(&d.Status, appsv1.DeploymentAvailable)
		return cond != nil && cond.Reason == ReasonTimedOut && cond.Status == corev1.ConditionFalse &&
			avail != nil && avail.Status == corev1.ConditionFalse
	})
	// Pods becoming ready complete the rollout after all.
	c.ready.Store(true)
	c.waitRolledOut("web")
}

func TestSurgeAndUnavailableRounding(t *testing.T) {
	for _, tc := range []struct {
		replicas       int32
		surge, unavail intstr.IntOrString
		wantS, wantU   int32
	}{
		{10, intstr.FromString("25%"), intstr.FromString("25%"), 3, 2},
		{3, intstr.FromString("25%"), intstr.FromString("25%"), 1, 0},
		{1, intstr.FromInt32(0), intstr.FromInt32(0), 0, 1},
		{4, intstr.FromInt32(2), intstr.FromString("50%"), 2, 2},
		{2, intstr.FromInt32(0), intstr.FromInt32(5), 0, 2},
	} {
		d := newDeployment("x", tc.replicas, "i")
		d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxSurge: &tc.surge, MaxUnavailable: &tc.unavail}
		s, u := surgeAndUnavailable(d)
		if s != tc.wantS || u != tc.wantU {
			t.Errorf("%d replicas, surge %s, unavailable %s: got %d/%d, want %d/%d",
				tc.replicas, tc.surge.String(), tc.unavail.String(), s, u, tc.wantS, tc.wantU)
		}
	}
}

func TestTemplateHash(t *testing.T) {
	a := newDeployment("x", 1, "img:A").Spec.Template
	b := newDeployment("x", 1, "img:B").Spec.Template
	if templateHash(&a, nil) == templateHash(&b, nil) {
		t.Error("different templates, same hash")
	}
	labelled := *a.DeepCopy()
	labelled.Labels[HashLabel] = "whatever"
	if templateHash(&a, nil) != templateHash(&labelled, nil) || !equalIgnoreHash(&a, &labelled) {
		t.Error("the hash label changed the hash")
	}
	if templateHash(&a, nil) == templateHash(&a, ptr(int32(1))) {
		t.Error("the collision count did not change the hash")
	}
}
