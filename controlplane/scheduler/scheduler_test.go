package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
)

var podsResource = v1.SchemeGroupVersion.WithResource("pods")

// fakeCluster is a fake clientset whose pods/binding sets spec.nodeName, as
// the apiserver does, and counts the binds.
type fakeCluster struct {
	client *fake.Clientset
	mu     sync.Mutex
	bound  int
	failOn map[string]bool // pod names whose bind is rejected once
	// podWatch, when set, is the pod watch the informers get; binds are
	// sent to it. The fake tracker's own watch panics past 100 events in
	// flight, too few for the benchmark.
	podWatch *watch.FakeWatcher
}

func newFakeCluster(objs ...runtime.Object) *fakeCluster {
	fc := &fakeCluster{client: fake.NewSimpleClientset(objs...), failOn: map[string]bool{}}
	fc.client.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "binding" {
			return false, nil, nil
		}
		b := a.(k8stesting.CreateAction).GetObject().(*v1.Binding)
		fc.mu.Lock()
		fail := fc.failOn[b.Name]
		delete(fc.failOn, b.Name)
		fc.mu.Unlock()
		if fail {
			return true, nil, apierrors.NewInternalError(fmt.Errorf("injected"))
		}
		obj, err := fc.client.Tracker().Get(podsResource, b.Namespace, b.Name)
		if err != nil {
			return true, nil, err
		}
		p := obj.(*v1.Pod).DeepCopy()
		if p.Spec.NodeName != "" {
			return true, nil, apierrors.NewConflict(podsResource.GroupResource(), b.Name, fmt.Errorf("pod is already assigned to node %q", p.Spec.NodeName))
		}
		p.Spec.NodeName = b.Target.Name
		if err := fc.client.Tracker().Update(podsResource, p, b.Namespace); err != nil {
			return true, nil, err
		}
		if fc.podWatch != nil {
			fc.podWatch.Modify(p)
		}
		fc.mu.Lock()
		fc.bound++
		fc.mu.Unlock()
		return true, nil, nil
	})
	return fc
}

// bufferPodWatch gives the informers a pod watch that holds n events.
func (fc *fakeCluster) bufferPodWatch(n int) {
	fc.podWatch = watch.NewFakeWithChanSize(n, false)
	fc.client.PrependWatchReactor("pods", func(k8stesting.Action) (bool, watch.Interface, error) {
		return true, fc.podWatch, nil
	})
}

func (fc *fakeCluster) boundCount() int {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return fc.bound
}

// start runs a scheduler over fc until the test ends.
func (fc *fakeCluster) start(t testing.TB, rec record.EventRecorder) {
	t.Helper()
	factory := informers.NewSharedInformerFactory(fc.client, 0)
	s, err := New(Config{
		Client: fc.client, Informers: factory, Recorder: rec,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
}

func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, detail := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %s", what, detail)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSchedulerBindsAndReportsUnschedulable(t *testing.T) {
	fc := newFakeCluster(
		node("n1", 1000, gi, 10, cordoned),
		node("n2", 300, gi, 10),
		node("n3", 300, gi, 10),
		pod("small-0", 200, 0), pod("small-1", 200, 0),
		pod("big", 500, 0),
		pod("other", 0, 0, func(p *v1.Pod) { p.Spec.SchedulerName = "someone-else" }),
		pod("gated", 0, 0, func(p *v1.Pod) { p.Spec.SchedulingGates = []v1.PodSchedulingGate{{Name: "wait"}} }),
	)
	fc.failOn["small-1"] = true // the first bind fails; the pod is retried
	fc.start(t, nil)
	ctx := context.Background()
	pods := fc.client.CoreV1().Pods("default")

	eventually(t, "small pods bound to different nodes", func() (bool, string) {
		a, _ := pods.Get(ctx, "small-0", metav1.GetOptions{})
		b, _ := pods.Get(ctx, "small-1", metav1.GetOptions{})
		ok := a.Spec.NodeName != "" && b.Spec.NodeName != "" && a.Spec.NodeName != b.Spec.NodeName
		return ok, fmt.Sprintf("small-0 on %q, small-1 on %q", a.Spec.NodeName, b.Spec.NodeName)
	})

	// n2 and n3 have 100m left each, n1 is cordoned.
	const want = "0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
	eventually(t, "big pod's PodScheduled condition", func() (bool, string) {
		p, _ := pods.Get(ctx, "big", metav1.GetOptions{})
		for _, c := range p.Status.Conditions {
			if c.Type == v1.PodScheduled {
				ok := c.Status == v1.ConditionFalse && c.Reason == v1.PodReasonUnschedulable && c.Message == want
				return ok, fmt.Sprintf("%+v", c)
			}
		}
		return false, "no condition"
	})
	eventually(t, "FailedScheduling event", func() (bool, string) {
		evs, _ := fc.client.CoreV1().Events("default").List(ctx, metav1.ListOptions{})
		for _, e := range evs.Items {
			if e.InvolvedObject.Name == "big" && e.Reason == "FailedScheduling" && e.Type == v1.EventTypeWarning && e.Message == want {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d events", len(evs.Items))
	})

	// A new node big enough: the waiting pod is retried and bound there.
	if _, err := fc.client.CoreV1().Nodes().Create(ctx, node("n4", 1000, gi, 10), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "big pod bound to n4", func() (bool, string) {
		p, _ := pods.Get(ctx, "big", metav1.GetOptions{})
		return p.Spec.NodeName == "n4", p.Spec.NodeName
	})
	for _, name := range []string{"other", "gated"} {
		if p, _ := pods.Get(ctx, name, metav1.GetOptions{}); p.Spec.NodeName != "" {
			t.Errorf("pod %s bound to %s", name, p.Spec.NodeName)
		}
	}
}

func TestSchedulerRetriesWhenPodsLeave(t *testing.T) {
	fc := newFakeCluster(node("n1", 1000, gi, 10), pod("old", 800, 0, onNode("n1")), pod("new", 500, 0))
	rec := record.NewFakeRecorder(100)
	fc.start(t, rec)
	ctx := context.Background()
	eventually(t, "FailedScheduling event", func() (bool, string) {
		select {
		case e := <-rec.Events:
			return e == "Warning FailedScheduling 0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.", e
		default:
			return false, "none yet"
		}
	})
	if err := fc.client.CoreV1().Pods("default").Delete(ctx, "old", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "new pod bound", func() (bool, string) {
		p, _ := fc.client.CoreV1().Pods("default").Get(ctx, "new", metav1.GetOptions{})
		return p.Spec.NodeName == "n1", p.Spec.NodeName
	})
}

func TestSetUnschedulable(t *testing.T) {
	t0, t1 := metav1.Unix(100, 0), metav1.Unix(200, 0)
	cond := v1.PodCondition{Type: v1.PodScheduled, Status: v1.ConditionFalse, Reason: v1.PodReasonUnschedulable, Message: "m2"}
	for _, tc := range []struct {
		name       string
		existing   []v1.PodCondition
		transition metav1.Time
	}{
		{"new", nil, t1},
		{"same status keeps transition time", []v1.PodCondition{{Type: v1.PodScheduled, Status: v1.ConditionFalse, Message: "m1", LastTransitionTime: t0}}, t0},
		{"status change", []v1.PodCondition{{Type: v1.PodScheduled, Status: v1.ConditionTrue, LastTransitionTime: t0}}, t1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := pod("p", 0, 0)
			p.Status.Conditions = append([]v1.PodCondition{{Type: v1.PodReady}}, tc.existing...)
			setUnschedulable(p, cond, t1)
			var got []v1.PodCondition
			for _, c := range p.Status.Conditions {
				if c.Type == v1.PodScheduled {
					got = append(got, c)
				}
			}
			if len(got) != 1 || got[0].Message != "m2" || got[0].Reason != v1.PodReasonUnschedulable ||
				!got[0].LastTransitionTime.Equal(&tc.transition) || !got[0].LastProbeTime.Equal(&t1) {
				t.Errorf("got %+v", got)
			}
		})
	}
}

func TestMetrics(t *testing.T) {
	fc := newFakeCluster(node("n1", 1000, gi, 10), pod("fits", 100, 0), pod("too-big", 5000, 0))
	reg := prometheus.NewPedanticRegistry()
	factory := informers.NewSharedInformerFactory(fc.client, 0)
	s, err := New(Config{Client: fc.client, Informers: factory, Recorder: &record.FakeRecorder{}, Registerer: reg,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	eventually(t, "both attempts counted", func() (bool, string) {
		got := gather(t, reg)
		return got[`rudder_scheduler_schedule_attempts_total{result="scheduled"}`] == 1 &&
			got[`rudder_scheduler_schedule_attempts_total{result="unschedulable"}`] >= 1, fmt.Sprint(got)
	})
	got := gather(t, reg)
	for _, q := range []string{"active", "backoff", "unschedulable"} {
		if _, ok := got[`rudder_scheduler_pending_pods{queue="`+q+`"}`]; !ok {
			t.Errorf("no pending_pods series for %s: %v", q, got)
		}
	}
}

// gather flattens counters and gauges to "name{label="value"}" → value.
func gather(t *testing.T, reg prometheus.Gatherer) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				key += fmt.Sprintf("{%s=%q}", l.GetName(), l.GetValue())
			}
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				out[key] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[key] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}
