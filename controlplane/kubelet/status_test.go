package kubelet

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// fakeCtr is a container instance with a fixed fate.
type fakeCtr struct {
	id      string
	started time.Time
	done    chan struct{}
	exit    ExitStatus
}

func newFakeCtr(id string, exited bool, code int) *fakeCtr {
	c := &fakeCtr{id: id, started: time.Unix(100, 0), done: make(chan struct{}), exit: ExitStatus{Code: code, FinishedAt: time.Unix(200, 0)}}
	if exited {
		close(c.done)
	}
	return c
}

func (c *fakeCtr) ID() string            { return c.id }
func (c *fakeCtr) PID() int              { return 1 }
func (c *fakeCtr) StartedAt() time.Time  { return c.started }
func (c *fakeCtr) Done() <-chan struct{} { return c.done }
func (c *fakeCtr) Exit() ExitStatus      { return c.exit }

func TestPodPhase(t *testing.T) {
	running := func() *ctrState { return &ctrState{cur: newFakeCtr("r", false, 0), startupOK: true, ready: true} }
	exited := func(code int) *ctrState { return &ctrState{cur: newFakeCtr("e", true, code), startupOK: true} }
	backoff := func(code int) *ctrState {
		return &ctrState{last: &termination{exitCode: code}, waitReason: "CrashLoopBackOff"}
	}
	waiting := func() *ctrState { return &ctrState{} }
	cases := []struct {
		name     string
		policy   corev1.RestartPolicy
		initDone bool
		ctrs     []*ctrState
		failed   string
		want     corev1.PodPhase
		ready    corev1.ConditionStatus
	}{
		{"init running", corev1.RestartPolicyAlways, false, []*ctrState{waiting()}, "", corev1.PodPending, corev1.ConditionFalse},
		{"creating", corev1.RestartPolicyAlways, true, []*ctrState{waiting()}, "", corev1.PodPending, corev1.ConditionFalse},
		{"all running", corev1.RestartPolicyAlways, true, []*ctrState{running(), running()}, "", corev1.PodRunning, corev1.ConditionTrue},
		{"one waiting", corev1.RestartPolicyAlways, true, []*ctrState{running(), waiting()}, "", corev1.PodPending, corev1.ConditionFalse},
		{"crash loop", corev1.RestartPolicyAlways, true, []*ctrState{backoff(1)}, "", corev1.PodRunning, corev1.ConditionFalse},
		{"never, all ok", corev1.RestartPolicyNever, true, []*ctrState{exited(0), exited(0)}, "", corev1.PodSucceeded, corev1.ConditionFalse},
		{"never, one failed", corev1.RestartPolicyNever, true, []*ctrState{exited(0), exited(2)}, "", corev1.PodFailed, corev1.ConditionFalse},
		{"onfailure, failed restarts", corev1.RestartPolicyOnFailure, true, []*ctrState{backoff(3)}, "", corev1.PodRunning, corev1.ConditionFalse},
		{"onfailure, done", corev1.RestartPolicyOnFailure, true, []*ctrState{exited(0)}, "", corev1.PodSucceeded, corev1.ConditionFalse},
		{"init failed, never", corev1.RestartPolicyNever, false, []*ctrState{waiting()}, "init container failed", corev1.PodFailed, corev1.ConditionFalse},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: corev1.PodSpec{RestartPolicy: tc.policy}}
			for i := range tc.ctrs {
				pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: string(rune('a' + i)), Image: "rudder"})
			}
			st := podStatus(observed{pod: pod, initDone: tc.initDone, ctrs: tc.ctrs, sandboxOK: true, failMessage: tc.failed, now: time.Unix(300, 0)})
			if st.Phase != tc.want {
				t.Fatalf("phase %s, want %s", st.Phase, tc.want)
			}
			for _, c := range st.Conditions {
				if c.Type == corev1.PodReady && c.Status != tc.ready {
					t.Fatalf("Ready %s, want %s", c.Status, tc.ready)
				}
			}
		})
	}
}

func TestContainerStatusStates(t *testing.T) {
	s := &ctrState{cur: newFakeCtr("x", false, 0), id: "x", restarts: 2, startupOK: true, ready: true,
		last: &termination{id: "w", exitCode: 137, reason: "Error"}}
	cs := containerStatus(corev1.Container{Name: "c", Image: "rudder"}, s)
	if cs.State.Running == nil || cs.LastTerminationState.Terminated == nil || cs.LastTerminationState.Terminated.ExitCode != 137 ||
		cs.RestartCount != 2 || !cs.Ready || !*cs.Started || cs.ContainerID != "rudder://x" {
		t.Fatalf("running with a previous crash: %+v", cs)
	}
	s = &ctrState{waitReason: "ErrImagePull", waitMessage: "image \"foo\" not found"}
	cs = containerStatus(corev1.Container{Name: "c", Image: "foo"}, s)
	if cs.State.Waiting == nil || cs.State.Waiting.Reason != "ErrImagePull" || cs.Ready {
		t.Fatalf("image error: %+v", cs)
	}
	s = &ctrState{cur: newFakeCtr("y", true, 0), id: "y"}
	cs = containerStatus(corev1.Container{Name: "c"}, s)
	if cs.State.Terminated == nil || cs.State.Terminated.Reason != "Completed" {
		t.Fatalf("completed: %+v", cs)
	}
}

func TestRestartDelay(t *testing.T) {
	want := []time.Duration{0, 10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second,
		160 * time.Second, 5 * time.Minute, 5 * time.Minute}
	for crashes, w := range want {
		if got := restartDelay(crashes); got != w {
			t.Errorf("restartDelay(%d) = %s, want %s", crashes, got, w)
		}
	}
	if !ranLongEnough(&termination{startedAt: time.Unix(0, 0), finishedAt: time.Unix(601, 0)}) {
		t.Error("a 10 min run should reset the backoff")
	}
}

func TestShouldRestart(t *testing.T) {
	ok, fail := &termination{exitCode: 0}, &termination{exitCode: 1}
	cases := []struct {
		p       corev1.RestartPolicy
		t       *termination
		restart bool
	}{
		{corev1.RestartPolicyAlways, ok, true}, {corev1.RestartPolicyAlways, fail, true},
		{corev1.RestartPolicyOnFailure, ok, false}, {corev1.RestartPolicyOnFailure, fail, true},
		{corev1.RestartPolicyNever, ok, false}, {corev1.RestartPolicyNever, fail, false},
	}
	for _, tc := range cases {
		if got := shouldRestart(tc.p, tc.t); got != tc.restart {
			t.Errorf("%s exit %d: restart %v, want %v", tc.p, tc.t.exitCode, got, tc.restart)
		}
	}
}

func TestQOSClass(t *testing.T) {
	q := resource.MustParse
	cases := []struct {
		name string
		res  corev1.ResourceRequirements
		want corev1.PodQOSClass
	}{
		{"none", corev1.ResourceRequirements{}, corev1.PodQOSBestEffort},
		{"requests", corev1.ResourceRequirements{Requests: corev1.ResourceList{"cpu": q("100m")}}, corev1.PodQOSBurstable},
		{"equal", corev1.ResourceRequirements{Requests: corev1.ResourceList{"cpu": q("1"), "memory": q("1Gi")},
			Limits: corev1.ResourceList{"cpu": q("1"), "memory": q("1Gi")}}, corev1.PodQOSGuaranteed},
	}
	for _, tc := range cases {
		pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: tc.res}}}}
		if got := qosClass(pod); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}
