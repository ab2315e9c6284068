package prober

import (
	"context"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
)

// stubRunner returns scripted results (the last one repeats).
type stubRunner struct {
	mu      sync.Mutex
	results []Result
	calls   int
	called  chan Kind
}

func (s *stubRunner) Probe(_ context.Context, p *corev1.Probe, _ Target) (Result, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	r := s.results[0]
	if len(s.results) > 1 {
		s.results = s.results[1:]
	}
	if s.called != nil {
		s.called <- Kind(p.PeriodSeconds) // tests tag probes by period
	}
	return r, ""
}

func (s *stubRunner) set(rs ...Result) {
	s.mu.Lock()
	s.results = rs
	s.mu.Unlock()
}

func (s *stubRunner) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// fixture is a pod whose status tests edit, and the updates reported.
type fixture struct {
	mu      sync.Mutex
	pod     *corev1.Pod
	updates []Update
	clock   *clocktesting.FakeClock
	runner  *stubRunner
	m       *Manager
}

func newFixture(t *testing.T, c corev1.Container) *fixture {
	t.Helper()
	f := &fixture{clock: clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), runner: &stubRunner{results: []Result{Success}}}
	f.pod = &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "uid-1"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{c}, RestartPolicy: corev1.RestartPolicyAlways},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.1", ContainerStatuses: []corev1.ContainerStatus{{
			Name: c.Name, ContainerID: "cri://1",
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(f.clock.Now())}},
		}}},
	}
	m, err := NewManager(ManagerConfig{Runner: f.runner, Clock: f.clock, Pod: f.getPod, OnUpdate: f.onUpdate})
	if err != nil {
		t.Fatal(err)
	}
	f.m = m
	return f
}

func (f *fixture) getPod(uid types.UID) (*corev1.Pod, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pod == nil || f.pod.UID != uid {
		return nil, false
	}
	return f.pod.DeepCopy(), true
}

func (f *fixture) onUpdate(u Update) {
	f.mu.Lock()
	f.updates = append(f.updates, u)
	f.mu.Unlock()
}

func (f *fixture) edit(fn func(p *corev1.Pod)) {
	f.mu.Lock()
	fn(f.pod)
	f.mu.Unlock()
}

// take returns and clears the updates so far, as (kind, result) pairs.
func (f *fixture) take() []Result {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Result
	for _, u := range f.updates {
		out = append(out, u.Result)
	}
	f.updates = nil
	return out
}

func (f *fixture) worker(k Kind) *worker {
	c := &f.pod.Spec.Containers[0]
	return newWorker(f.m, f.pod, c, k, probeOf(c, k))
}

func equalResults(a, b []Result) bool {
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

func TestWorkerThresholds(t *testing.T) {
	probe := func(success, failure int32) *corev1.Probe {
		return &corev1.Probe{SuccessThreshold: success, FailureThreshold: failure}
	}
	tests := []struct {
		name    string
		kind    Kind
		probe   *corev1.Probe
		results []Result
		// want are the updates after each round.
		want [][]Result
	}{
		{name: "readiness starts not ready, one success suffices", kind: Readiness, probe: probe(0, 0),
			results: []Result{Success, Success}, want: [][]Result{{Failure, Success}, nil}},
		{name: "readiness success threshold 2", kind: Readiness, probe: probe(2, 0),
			results: []Result{Success, Success, Failure, Failure, Failure}, want: [][]Result{{Failure}, {Success}, nil, nil, {Failure}}},
		{name: "liveness starts healthy, fails after 3", kind: Liveness, probe: probe(0, 0),
			results: []Result{Failure, Failure, Success, Failure, Failure, Failure}, want: [][]Result{{Success}, nil, nil, nil, nil, {Failure}}},
		{name: "warning counts as success", kind: Readiness, probe: probe(0, 0),
			results: []Result{Warning}, want: [][]Result{{Failure, Success}}},
		{name: "unknown is thrown away", kind: Readiness, probe: probe(0, 1),
			results: []Result{Unknown, Unknown, Failure}, want: [][]Result{{Failure}, nil, nil}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := corev1.Container{Name: "c"}
			switch tc.kind {
			case Liveness:
				c.LivenessProbe = tc.probe
			case Readiness:
				c.ReadinessProbe = tc.probe
			}
			f := newFixture(t, c)
			f.runner.set(tc.results...)
			w := f.worker(tc.kind)
			for i, want := range tc.want {
				if !w.doProbe() {
					t.Fatalf("round %d: worker stopped", i)
				}
				if got := f.take(); !equalResults(got, want) {
					t.Fatalf("round %d: updates %v, want %v", i, got, want)
				}
			}
		})
	}
}

func TestLivenessHoldsUntilRestart(t *testing.T) {
	f := newFixture(t, corev1.Container{Name: "c", LivenessProbe: &corev1.Probe{FailureThreshold: 1}})
	f.runner.set(Failure)
	w := f.worker(Liveness)
	w.doProbe()
	if got := f.take(); !equalResults(got, []Result{Success, Failure}) {
		t.Fatalf("updates %v", got)
	}
	w.doProbe()
	if n := f.runner.count(); n != 1 {
		t.Fatalf("probed %d times while on hold, want 1", n)
	}
	// The kubelet restarted the container: a new ID resets the worker.
	f.edit(func(p *corev1.Pod) { p.Status.ContainerStatuses[0].ContainerID = "cri://2" })
	f.runner.set(Success)
	w.doProbe()
	if got := f.take(); !equalResults(got, []Result{Success}) {
		t.Fatalf("updates after restart %v", got)
	}
	if _, ok := f.m.Result("cri://1", Liveness); ok {
		t.Error("result of the old container kept")
	}
	if r, _ := f.m.Result("cri://2", Liveness); r != Success {
		t.Errorf("new container result %v", r)
	}
}

func TestInitialDelay(t *testing.T) {
	f := newFixture(t, corev1.Container{Name: "c", ReadinessProbe: &corev1.Probe{InitialDelaySeconds: 10}})
	w := f.worker(Readiness)
	w.doProbe()
	f.clock.Step(9 * time.Second)
	w.doProbe()
	if n := f.runner.count(); n != 0 {
		t.Fatalf("probed %d times during the initial delay", n)
	}
	f.clock.Step(time.Second)
	w.doProbe()
	if n := f.runner.count(); n != 1 {
		t.Fatalf("probed %d times after the initial delay, want 1", n)
	}
}

func TestStartupGating(t *testing.T) {
	f := newFixture(t, corev1.Container{Name: "c",
		StartupProbe:   &corev1.Probe{FailureThreshold: 5},
		LivenessProbe:  &corev1.Probe{},
		ReadinessProbe: &corev1.Probe{}})
	start, live, ready := f.worker(Startup), f.worker(Liveness), f.worker(Readiness)
	f.runner.set(Failure)
	live.doProbe()
	ready.doProbe()
	start.doProbe()
	if n := f.runner.count(); n != 1 {
		t.Fatalf("probes before startup succeeded: %d, want only the startup probe", n)
	}
	st := f.pod.Status.DeepCopy()
	f.m.UpdatePodStatus(f.pod.UID, st)
	if cs := st.ContainerStatuses[0]; *cs.Started || cs.Ready {
		t.Fatalf("started %v ready %v before the startup probe passed", *cs.Started, cs.Ready)
	}
	f.runner.set(Success)
	start.doProbe()
	if r, _ := f.m.Result("cri://1", Startup); r != Success {
		t.Fatalf("startup result %v", r)
	}
	live.doProbe()
	ready.doProbe()
	start.doProbe() // stops probing once started
	if n := f.runner.count(); n != 4 {
		t.Fatalf("probe calls %d, want 4", n)
	}
	f.m.UpdatePodStatus(f.pod.UID, st)
	if cs := st.ContainerStatuses[0]; !*cs.Started || !cs.Ready {
		t.Fatalf("started %v ready %v after all probes passed", *cs.Started, cs.Ready)
	}
}

func TestWorkerContainerStates(t *testing.T) {
	tests := []struct {
		name       string
		edit       func(p *corev1.Pod)
		kind       Kind
		wantGoOn   bool
		wantResult []Result
	}{
		{name: "not created yet", kind: Liveness, wantGoOn: true,
			edit: func(p *corev1.Pod) { p.Status.ContainerStatuses = nil }},
		{name: "waiting", kind: Readiness, wantGoOn: true, wantResult: []Result{Failure},
			edit: func(p *corev1.Pod) {
				p.Status.ContainerStatuses[0].State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{}}
			}},
		{name: "terminated, restart never", kind: Liveness, wantGoOn: false, wantResult: []Result{Success, Failure},
			edit: func(p *corev1.Pod) {
				p.Spec.RestartPolicy = corev1.RestartPolicyNever
				p.Status.ContainerStatuses[0].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{}}
			}},
		{name: "pod succeeded", kind: Readiness, wantGoOn: false,
			edit: func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded }},
		{name: "pod terminating: liveness not probed", kind: Liveness, wantGoOn: true, wantResult: []Result{Success},
			edit: func(p *corev1.Pod) { now := metav1.Now(); p.DeletionTimestamp = &now }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, corev1.Container{Name: "c", LivenessProbe: &corev1.Probe{}, ReadinessProbe: &corev1.Probe{}})
			f.runner.set(Failure)
			f.edit(tc.edit)
			w := f.worker(tc.kind)
			if got := w.doProbe(); got != tc.wantGoOn {
				t.Errorf("doProbe = %v, want %v", got, tc.wantGoOn)
			}
			if n := f.runner.count(); n != 0 {
				t.Errorf("probed %d times", n)
			}
			if got := f.take(); !equalResults(got, tc.wantResult) {
				t.Errorf("updates %v, want %v", got, tc.wantResult)
			}
		})
	}
}

func TestUpdatePodStatusWithoutProbes(t *testing.T) {
	f := newFixture(t, corev1.Container{Name: "c"})
	f.m.AddPod(f.pod)
	defer f.m.Stop()
	st := f.pod.Status.DeepCopy()
	f.m.UpdatePodStatus(f.pod.UID, st)
	if cs := st.ContainerStatuses[0]; !*cs.Started || !cs.Ready {
		t.Errorf("started %v ready %v, want both", *cs.Started, cs.Ready)
	}
}

// TestManagerRuns drives real worker goroutines with the fake clock.
func TestManagerRuns(t *testing.T) {
	// PeriodSeconds 5 tags the probe in stubRunner.called.
	f := newFixture(t, corev1.Container{Name: "c", ReadinessProbe: &corev1.Probe{PeriodSeconds: 5}})
	f.runner.called = make(chan Kind, 10)
	f.m.AddPod(f.pod)
	defer f.m.Stop()
	waitCall := func() {
		t.Helper()
		select {
		case <-f.runner.called:
		case <-time.After(5 * time.Second):
			t.Fatal("no probe ran")
		}
	}
	waitCall() // the first probe runs at once
	f.runner.set(Failure)
	for i := 0; i < 3; i++ {
		f.clock.Step(5 * time.Second)
		waitCall()
	}
	f.m.mu.Lock()
	w := f.m.workers[workerKey{f.pod.UID, "c", Readiness}]
	f.m.mu.Unlock()
	f.m.RemovePod(f.pod.UID)
	if w == nil || w.ctx.Err() == nil {
		t.Fatal("RemovePod did not stop the worker")
	}
	f.m.Stop() // waits for the goroutine
	if len(f.m.workers) != 0 || len(f.m.results) != 0 {
		t.Errorf("workers %d results %d left after stop", len(f.m.workers), len(f.m.results))
	}
	if got := f.take(); !equalResults(got, []Result{Failure, Success, Failure}) {
		t.Errorf("updates %v, want not ready, ready, not ready", got)
	}
}

func TestKillGracePeriod(t *testing.T) {
	i := func(v int64) *int64 { return &v }
	pod := &corev1.Pod{Spec: corev1.PodSpec{TerminationGracePeriodSeconds: i(60)}}
	tests := []struct {
		pod  *corev1.Pod
		p    *corev1.Probe
		want int64
	}{
		{pod, &corev1.Probe{TerminationGracePeriodSeconds: i(5)}, 5},
		{pod, &corev1.Probe{}, 60},
		{&corev1.Pod{}, &corev1.Probe{}, 30},
	}
	for _, tc := range tests {
		if got := KillGracePeriod(tc.pod, tc.p); got != tc.want {
			t.Errorf("KillGracePeriod = %d, want %d", got, tc.want)
		}
	}
}
