package kubelet

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"rudder/controlplane/kubelet/prober"
)

func TestInitContainersRunInOrder(t *testing.T) {
	h := newHarness(t, true)
	pod := testPod("init", corev1.RestartPolicyAlways, ctr("app"))
	pod.Spec.InitContainers = []corev1.Container{ctr("init-a"), ctr("init-b")}
	w := h.worker(pod)

	h.sync(w)
	if got := h.rt.started(); !reflect.DeepEqual(got, []string{"init-a"}) {
		t.Fatalf("after first sync started %v, want [init-a]", got)
	}
	st := h.status(w)
	if st.Phase != corev1.PodPending || podCond(st, corev1.PodInitialized) != corev1.ConditionFalse {
		t.Errorf("phase %s, Initialized %s; want Pending, False", st.Phase, podCond(st, corev1.PodInitialized))
	}
	if st.PodIP != "10.244.1.5" || st.HostIP != "192.0.2.10" {
		t.Errorf("podIP %q hostIP %q", st.PodIP, st.HostIP)
	}
	h.sync(w) // still running: nothing new
	if got := h.rt.started(); len(got) != 1 {
		t.Fatalf("started %v while init-a runs", got)
	}

	h.rt.exit(t, "init-a", 0)
	h.sync(w)
	if got := h.rt.started(); !reflect.DeepEqual(got, []string{"init-a", "init-b"}) {
		t.Fatalf("started %v, want [init-a init-b]", got)
	}
	h.rt.exit(t, "init-b", 0)
	h.sync(w)
	if got := h.rt.started(); !reflect.DeepEqual(got, []string{"init-a", "init-b", "app"}) {
		t.Fatalf("started %v, want app after both init containers", got)
	}
	st = h.status(w)
	if st.Phase != corev1.PodRunning || podCond(st, corev1.PodInitialized) != corev1.ConditionTrue || podCond(st, corev1.PodReady) != corev1.ConditionTrue {
		t.Errorf("phase %s conditions %+v; want Running, Initialized and Ready", st.Phase, st.Conditions)
	}
	for _, name := range []string{"init-a", "init-b"} {
		term := ctrStatus(t, st.InitContainerStatuses, name).State.Terminated
		if term == nil || term.ExitCode != 0 || term.Reason != "Completed" {
			t.Errorf("init container %s state %+v, want terminated Completed", name, term)
		}
	}
}

func TestInitContainerFailureNeverFailsPod(t *testing.T) {
	h := newHarness(t, true)
	pod := testPod("initfail", corev1.RestartPolicyNever, ctr("app"))
	pod.Spec.InitContainers = []corev1.Container{ctr("setup")}
	w := h.worker(pod)
	h.sync(w)
	h.rt.exit(t, "setup", 3)
	h.sync(w)
	st := h.status(w)
	if st.Phase != corev1.PodFailed || !strings.Contains(st.Message, `"setup"`) || st.Reason == "" {
		t.Errorf("phase %s reason %q message %q; want Failed naming the init container", st.Phase, st.Reason, st.Message)
	}
	if term := ctrStatus(t, st.InitContainerStatuses, "setup").State.Terminated; term == nil || term.ExitCode != 3 {
		t.Errorf("init state %+v, want terminated with 3", term)
	}
	h.sync(w) // terminal: stops, frees the network, starts nothing
	if got := h.rt.started(); !reflect.DeepEqual(got, []string{"setup"}) {
		t.Errorf("started %v, want only the init container", got)
	}
	if h.net.teardownCount() == 0 {
		t.Error("network of a failed pod was not torn down")
	}
}

func TestCrashLoopBackOff(t *testing.T) {
	h := newHarness(t, true)
	w := h.worker(testPod("crash", corev1.RestartPolicyAlways, ctr("app")))
	h.sync(w)

	// First crash: restarted at once.
	h.rt.exit(t, "app", 1)
	h.sync(w)
	if n := len(h.rt.started()); n != 2 {
		t.Fatalf("%d starts after the first crash, want an immediate restart", n)
	}
	cs := ctrStatus(t, h.status(w).ContainerStatuses, "app")
	if cs.RestartCount != 1 || cs.State.Running == nil || cs.LastTerminationState.Terminated == nil || cs.LastTerminationState.Terminated.ExitCode != 1 {
		t.Errorf("after restart: %+v", cs)
	}

	// Second crash: 10 s back-off.
	h.clock.Step(time.Second)
	h.rt.exit(t, "app", 2)
	h.sync(w)
	assertBackoff(t, h, w, "10s", 2)
	h.clock.Step(10*time.Second - time.Millisecond)
	h.sync(w)
	if n := len(h.rt.started()); n != 2 {
		t.Fatalf("restarted before the 10 s back-off passed (%d starts)", n)
	}
	h.clock.Step(time.Millisecond)
	h.sync(w)
	if n := len(h.rt.started()); n != 3 {
		t.Fatalf("%d starts once the 10 s back-off passed, want 3", n)
	}
	if spec, _ := h.rt.lastSpec("app"); spec.RestartCount != 2 {
		t.Errorf("third instance has RestartCount %d, want 2", spec.RestartCount)
	}

	// Third crash: 20 s.
	h.clock.Step(time.Second)
	h.rt.exit(t, "app", 2)
	h.sync(w)
	assertBackoff(t, h, w, "20s", 2)
	h.clock.Step(19 * time.Second)
	h.sync(w)
	if n := len(h.rt.started()); n != 3 {
		t.Fatalf("restarted before the 20 s back-off passed")
	}
	h.clock.Step(time.Second)
	h.sync(w)
	if n := len(h.rt.started()); n != 4 {
		t.Fatalf("%d starts once the 20 s back-off passed, want 4", n)
	}
}

// assertBackoff checks the CrashLoopBackOff status of container app.
func assertBackoff(t *testing.T, h *harness, w *podWorker, delay string, exitCode int32) {
	t.Helper()
	cs := ctrStatus(t, h.status(w).ContainerStatuses, "app")
	if cs.State.Waiting == nil || cs.State.Waiting.Reason != "CrashLoopBackOff" {
		t.Fatalf("state %+v, want waiting CrashLoopBackOff", cs.State)
	}
	if want := "back-off " + delay + " restarting failed container=app pod=crash_default(crash-uid)"; cs.State.Waiting.Message != want {
		t.Errorf("waiting message %q, want %q", cs.State.Waiting.Message, want)
	}
	if lt := cs.LastTerminationState.Terminated; lt == nil || lt.ExitCode != exitCode {
		t.Errorf("lastState %+v, want terminated with %d", cs.LastTerminationState, exitCode)
	}
	if cs.Ready {
		t.Error("a container in back-off is ready")
	}
}

// TestRestartCountDuringBackOff checks restartCount while a crashed
// container waits in CrashLoopBackOff: upstream counts restarts done
// (the waiting container shows the count of its last instance).
func TestRestartCountDuringBackOff(t *testing.T) {
	h := newHarness(t, true)
	w := h.worker(testPod("crash", corev1.RestartPolicyAlways, ctr("app")))
	h.sync(w)
	h.rt.exit(t, "app", 1)
	h.sync(w)
	h.rt.exit(t, "app", 1)
	h.sync(w)
	if cs := ctrStatus(t, h.status(w).ContainerStatuses, "app"); cs.RestartCount != 1 {
		t.Errorf("restartCount %d in back-off after one restart, want 1", cs.RestartCount)
	}
}

func TestTerminalPhases(t *testing.T) {
	cases := []struct {
		name      string
		policy    corev1.RestartPolicy
		codes     []int // exit codes of containers a and b
		phase     corev1.PodPhase
		restarted bool
	}{
		{"OnFailure all succeed", corev1.RestartPolicyOnFailure, []int{0, 0}, corev1.PodSucceeded, false},
		{"OnFailure one fails", corev1.RestartPolicyOnFailure, []int{0, 1}, corev1.PodRunning, true},
		{"Never all succeed", corev1.RestartPolicyNever, []int{0, 0}, corev1.PodSucceeded, false},
		{"Never one fails", corev1.RestartPolicyNever, []int{0, 7}, corev1.PodFailed, false},
		{"Always exit 0 restarts", corev1.RestartPolicyAlways, []int{0, 0}, corev1.PodRunning, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, true)
			w := h.worker(testPod("p", tc.policy, ctr("a"), ctr("b")))
			h.sync(w)
			h.rt.exit(t, "a", tc.codes[0])
			h.rt.exit(t, "b", tc.codes[1])
			h.sync(w)
			st := h.status(w)
			if st.Phase != tc.phase {
				t.Errorf("phase %s, want %s", st.Phase, tc.phase)
			}
			if got := len(h.rt.started()) > 2; got != tc.restarted {
				t.Errorf("restarted=%v (starts %v), want %v", got, h.rt.started(), tc.restarted)
			}
			if tc.phase == corev1.PodSucceeded || tc.phase == corev1.PodFailed {
				for i, name := range []string{"a", "b"} {
					term := ctrStatus(t, st.ContainerStatuses, name).State.Terminated
					if term == nil || int(term.ExitCode) != tc.codes[i] {
						t.Errorf("container %s state %+v, want terminated with %d", name, term, tc.codes[i])
					}
				}
				if podCond(st, corev1.PodReady) != corev1.ConditionFalse {
					t.Error("a finished pod is Ready")
				}
				h.sync(w)
				if len(h.rt.started()) != 2 {
					t.Errorf("a finished pod was restarted: %v", h.rt.started())
				}
			}
		})
	}
}

func TestImagePullBackOff(t *testing.T) {
	h := newHarness(t, true)
	pull := &ImageError{Reason: "ErrImagePull", Message: `image "nosuch" not found`}
	h.rt.failStart("app", pull, pull)
	w := h.worker(testPod("img", corev1.RestartPolicyAlways, ctr("app")))

	waiting := func() *corev1.ContainerStateWaiting {
		t.Helper()
		return ctrStatus(t, h.status(w).ContainerStatuses, "app").State.Waiting
	}
	h.sync(w)
	if wt := waiting(); wt == nil || wt.Reason != "ErrImagePull" || wt.Message != pull.Message {
		t.Fatalf("waiting %+v, want ErrImagePull", wt)
	}
	if evs := h.events(); !slices.ContainsFunc(evs, func(e string) bool { return strings.Contains(e, "Failed to pull image") }) {
		t.Errorf("no pull failure event in %v", evs)
	}
	h.clock.Step(5 * time.Second)
	h.sync(w)
	if wt := waiting(); wt == nil || wt.Reason != "ErrImagePull" {
		t.Errorf("waiting %+v during the retry delay, want still ErrImagePull", wt)
	}
	h.clock.Step(5 * time.Second)
	h.sync(w)
	if wt := waiting(); wt == nil || wt.Reason != "ImagePullBackOff" {
		t.Fatalf("waiting %+v after a second failure, want ImagePullBackOff", wt)
	}
	if st := h.status(w); st.Phase != corev1.PodPending {
		t.Errorf("phase %s, want Pending", st.Phase)
	}
	h.clock.Step(10 * time.Second)
	h.sync(w)
	cs := ctrStatus(t, h.status(w).ContainerStatuses, "app")
	if cs.State.Running == nil || cs.RestartCount != 0 {
		t.Errorf("once the image is there: %+v, want running with restartCount 0", cs)
	}
}

func TestRunContainerError(t *testing.T) {
	h := newHarness(t, true)
	h.rt.failStart("app", errors.New("exec: no such file"))
	w := h.worker(testPod("runerr", corev1.RestartPolicyAlways, ctr("app")))
	h.sync(w)
	wt := ctrStatus(t, h.status(w).ContainerStatuses, "app").State.Waiting
	if wt == nil || wt.Reason != "RunContainerError" || !strings.Contains(wt.Message, "no such file") {
		t.Fatalf("waiting %+v, want RunContainerError", wt)
	}
	h.clock.Step(10 * time.Second)
	h.sync(w)
	if n := len(h.rt.started()); n != 1 {
		t.Errorf("%d starts after the retry delay, want 1", n)
	}
}

func TestContainerEnvironment(t *testing.T) {
	h := newHarness(t, true)
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "redis-master", Namespace: "default"},
		Spec: corev1.ServiceSpec{ClusterIP: "10.0.0.11", Ports: []corev1.ServicePort{{Port: 6379, Protocol: corev1.ProtocolTCP}}}}
	if err := h.svcs.Add(svc); err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: "default"}, Data: map[string]string{"mode": "fast"}}
	if _, err := h.client.CoreV1().ConfigMaps("default").Create(h.ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	c := ctr("app")
	c.Env = []corev1.EnvVar{
		{Name: "MODE", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: "mode"}}},
		{Name: "GREETING", Value: "hi $(MODE)"},
	}
	w := h.worker(testPod("env", corev1.RestartPolicyAlways, c))
	h.sync(w)
	spec, ok := h.rt.lastSpec("app")
	if !ok {
		t.Fatal("container not started")
	}
	for _, want := range []string{"REDIS_MASTER_SERVICE_HOST=10.0.0.11", "REDIS_MASTER_SERVICE_PORT=6379", "MODE=fast", "GREETING=hi fast"} {
		if !slices.Contains(spec.Env, want) {
			t.Errorf("env %v lacks %s", spec.Env, want)
		}
	}
	if spec.NetNS != "/fake/netns/env-uid" || spec.Hostname != "env" || spec.PodUID != "env-uid" || spec.Image != "busybox" {
		t.Errorf("spec %+v", spec)
	}
	targets := map[string]bool{}
	for _, m := range spec.Mounts {
		targets[m.Target] = true
	}
	if !targets["/etc/resolv.conf"] || !targets["/etc/hosts"] {
		t.Errorf("mounts %+v lack resolv.conf and hosts", spec.Mounts)
	}
}

func TestMissingConfigMapKey(t *testing.T) {
	h := newHarness(t, true)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: "default"}, Data: map[string]string{"other": "x"}}
	if _, err := h.client.CoreV1().ConfigMaps("default").Create(h.ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	c := ctr("app")
	c.Env = []corev1.EnvVar{{Name: "MODE", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: "mode"}}}}
	w := h.worker(testPod("cfgerr", corev1.RestartPolicyAlways, c))
	h.sync(w)
	if n := len(h.rt.started()); n != 0 {
		t.Fatalf("container started without its config")
	}
	wt := ctrStatus(t, h.status(w).ContainerStatuses, "app").State.Waiting
	if wt == nil || wt.Reason != "CreateContainerConfigError" || !strings.Contains(wt.Message, "mode") {
		t.Fatalf("waiting %+v, want CreateContainerConfigError naming the key", wt)
	}
	// The key appears: the next retry starts the container.
	cm.Data["mode"] = "slow"
	if _, err := h.client.CoreV1().ConfigMaps("default").Update(h.ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.clock.Step(10 * time.Second)
	h.sync(w)
	if spec, ok := h.rt.lastSpec("app"); !ok || !slices.Contains(spec.Env, "MODE=slow") {
		t.Errorf("after the key appeared: started=%v env=%v", ok, spec.Env)
	}
}

func TestDeletionRunsPreStopThenStops(t *testing.T) {
	h := newHarness(t, true)
	c := ctr("app")
	c.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"drain"}}}}
	h.rt.execFn = func(_ *rtCtr, cmd []string) (int, error) {
		h.clock.Step(3 * time.Second) // the hook takes 3 s of the grace period
		return 0, nil
	}
	pod := testPod("del", corev1.RestartPolicyAlways, c, ctr("side"))
	w := h.worker(pod)
	h.sync(w)
	if n := len(h.rt.started()); n != 2 {
		t.Fatalf("%d containers started", n)
	}

	cur := h.apiPod("default", "del")
	cur.DeletionTimestamp = &metav1.Time{Time: h.clock.Now()}
	cur.DeletionGracePeriodSeconds = ptr.To(int64(10))
	if _, err := h.client.CoreV1().Pods("default").Update(h.ctx, cur, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if done := h.sync(w); !done {
		t.Fatal("worker not done after deleting the pod")
	}
	calls := h.rt.calls()
	hook, stop := slices.Index(calls, "exec:app:drain"), slices.Index(calls, "stop:app")
	if hook < 0 || stop < 0 || hook > stop {
		t.Errorf("runtime calls %v: want the preStop exec before stop", calls)
	}
	for _, s := range h.rt.stopCalls() {
		want := 10 * time.Second
		if s.name == "app" {
			want = 7 * time.Second
		}
		// side may be stopped before or after the hook moved the clock.
		if s.grace != want && !(s.name == "side" && s.grace == 7*time.Second) {
			t.Errorf("Stop(%s) with grace %s, want %s", s.name, s.grace, want)
		}
	}
	if len(h.rt.stopCalls()) != 2 {
		t.Errorf("stop calls %+v, want both containers", h.rt.stopCalls())
	}
	dels := h.deletes()
	if len(dels) != 1 {
		t.Fatalf("%d pod deletes, want 1", len(dels))
	}
	opts := dels[0].DeleteOptions
	if opts.GracePeriodSeconds == nil || *opts.GracePeriodSeconds != 0 || opts.Preconditions == nil || *opts.Preconditions.UID != "del-uid" {
		t.Errorf("delete options %+v, want grace 0 and the pod's UID", opts)
	}
	if h.net.teardownCount() == 0 || !slices.Contains(h.rt.killed, "del-uid") {
		t.Errorf("network teardowns %d, killed %v", h.net.teardownCount(), h.rt.killed)
	}
	if _, err := h.client.CoreV1().Pods("default").Get(h.ctx, "del", metav1.GetOptions{}); err == nil {
		t.Error("pod still in the API")
	}
}

func TestPodGoneStopsContainers(t *testing.T) {
	h := newHarness(t, true)
	w := h.worker(testPod("gone", corev1.RestartPolicyAlways, ctr("app")))
	h.sync(w)
	if done := w.sync(h.ctx, nil); !done {
		t.Fatal("worker not done once its pod is gone")
	}
	if c := h.rt.latest("app"); c == nil || !c.exited() {
		t.Error("container still runs after its pod went away")
	}
	if h.net.teardownCount() == 0 {
		t.Error("network not torn down")
	}
}

func TestLivenessFailureRestarts(t *testing.T) {
	h := newHarness(t, true)
	c := ctr("app")
	c.LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"check"}}},
		TerminationGracePeriodSeconds: ptr.To(int64(5))}
	w := h.worker(testPod("live", corev1.RestartPolicyAlways, c))
	h.sync(w)
	first := h.rt.latest("app")
	w.probeResult(prober.Update{PodUID: w.uid, Container: "app", ContainerID: "rudder://" + first.id,
		Kind: prober.Liveness, Result: prober.Failure, Message: "boom\nmore"})
	h.sync(w) // applies the result: the kubelet stops the instance
	waitExited(t, first)
	if stops := h.rt.stopCalls(); len(stops) != 1 || stops[0].grace != 5*time.Second {
		t.Errorf("stops %+v, want one with the probe's 5 s grace", stops)
	}
	h.sync(w)
	if n := len(h.rt.started()); n != 2 {
		t.Fatalf("%d starts, want a restart after the liveness failure", n)
	}
	cs := ctrStatus(t, h.status(w).ContainerStatuses, "app")
	if cs.RestartCount != 1 || cs.State.Running == nil || cs.LastTerminationState.Terminated == nil || cs.LastTerminationState.Terminated.ExitCode != 143 {
		t.Errorf("status %+v, want running, restartCount 1, lastState 143", cs)
	}
	evs := strings.Join(h.events(), "\n")
	if !strings.Contains(evs, "Liveness probe failed: boom …") || !strings.Contains(evs, "Killing") {
		t.Errorf("events %s", evs)
	}
	// A stale result about the old instance changes nothing.
	w.probeResult(prober.Update{PodUID: w.uid, ContainerID: "rudder://" + first.id, Kind: prober.Liveness, Result: prober.Failure})
	h.sync(w)
	if len(h.rt.stopCalls()) != 1 {
		t.Error("a result for an old instance stopped the new one")
	}
}

func TestReadinessFlipsReady(t *testing.T) {
	h := newHarness(t, true)
	c := ctr("app")
	c.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(80)}}}
	w := h.worker(testPod("ready", corev1.RestartPolicyAlways, c))
	h.sync(w)
	if st := h.status(w); podCond(st, corev1.PodReady) != corev1.ConditionFalse || st.Phase != corev1.PodRunning {
		t.Fatalf("before any probe: phase %s Ready %s, want Running, False", st.Phase, podCond(st, corev1.PodReady))
	}
	id := "rudder://" + h.rt.latest("app").id
	steps := []struct {
		result prober.Result
		want   corev1.ConditionStatus
	}{
		{prober.Success, corev1.ConditionTrue},
		{prober.Failure, corev1.ConditionFalse},
		{prober.Warning, corev1.ConditionTrue},
	}
	for _, s := range steps {
		w.probeResult(prober.Update{PodUID: w.uid, Container: "app", ContainerID: id, Kind: prober.Readiness, Result: s.result})
		h.sync(w)
		st := h.status(w)
		if got := podCond(st, corev1.PodReady); got != s.want {
			t.Errorf("after readiness %s: Ready %s, want %s", s.result, got, s.want)
		}
		if got := podCond(st, corev1.ContainersReady); got != s.want {
			t.Errorf("after readiness %s: ContainersReady %s, want %s", s.result, got, s.want)
		}
		if cs := ctrStatus(t, st.ContainerStatuses, "app"); cs.Ready != (s.want == corev1.ConditionTrue) {
			t.Errorf("after readiness %s: container ready %v", s.result, cs.Ready)
		}
	}
	if len(h.rt.stopCalls()) != 0 {
		t.Error("readiness failure stopped the container")
	}
}

func TestStatusPatchOnlyWhenChanged(t *testing.T) {
	h := newHarness(t, true)
	w := h.worker(testPod("quiet", corev1.RestartPolicyAlways, ctr("app")))
	h.sync(w)
	if n := h.statusPatches(); n != 1 {
		t.Fatalf("%d status patches after the first sync, want 1", n)
	}
	h.clock.Step(time.Minute)
	h.sync(w)
	h.sync(w)
	if n := h.statusPatches(); n != 1 {
		t.Fatalf("%d status patches with nothing changed, want 1", n)
	}

	// Someone else marks the pod not ready: the kubelet puts it right.
	cur := h.apiPod("default", "quiet")
	for i := range cur.Status.Conditions {
		if cur.Status.Conditions[i].Type == corev1.PodReady {
			cur.Status.Conditions[i].Status = corev1.ConditionFalse
			cur.Status.Conditions[i].Reason = "NodeNotReady"
		}
	}
	if _, err := h.client.CoreV1().Pods("default").UpdateStatus(h.ctx, cur, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.sync(w)
	if n := h.statusPatches(); n != 2 {
		t.Fatalf("%d status patches after another actor changed Ready, want 2", n)
	}
	if got := podCond(h.status(w), corev1.PodReady); got != corev1.ConditionTrue {
		t.Errorf("Ready %s after the kubelet's correction, want True", got)
	}
	h.sync(w)
	if n := h.statusPatches(); n != 2 {
		t.Errorf("%d status patches after the correction settled, want 2", n)
	}
}

func TestStatusNotResentForStaleCache(t *testing.T) {
	h := newHarness(t, true)
	w := h.worker(testPod("stale", corev1.RestartPolicyAlways, ctr("app")))
	// The API answers status patches with a newer resource version than
	// the (stale) pod the informer hands the worker.
	stale := h.apiPod("default", "stale")
	stale.ResourceVersion = "5"
	w.sync(h.ctx, stale)
	if n := h.statusPatches(); n != 1 {
		t.Fatalf("%d patches, want 1", n)
	}
	w.sentRV = "6"
	w.sync(h.ctx, stale)
	if n := h.statusPatches(); n != 1 {
		t.Errorf("%d patches: the status was re-sent for a cache older than the kubelet's write", n)
	}
}

func TestOlderRV(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{"5", "6", true},
		{"6", "6", false},
		{"10", "9", false},
		{"", "6", false},
		{"5", "", false},
		{"x", "6", false},
	}
	for _, c := range cases {
		if got := olderRV(c.a, c.b); got != c.want {
			t.Errorf("olderRV(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestSandboxFailureRetries(t *testing.T) {
	h := newHarness(t, true)
	h.net.setupErr = errors.New("no IPs left")
	w := h.worker(testPod("sbx", corev1.RestartPolicyAlways, ctr("app")))
	h.sync(w)
	if n := len(h.rt.started()); n != 0 {
		t.Fatal("container started without a network")
	}
	st := h.status(w)
	if st.Phase != corev1.PodPending || podCond(st, corev1.PodReadyToStartContainers) != corev1.ConditionFalse {
		t.Errorf("phase %s, ReadyToStartContainers %s", st.Phase, podCond(st, corev1.PodReadyToStartContainers))
	}
	if evs := strings.Join(h.events(), "\n"); !strings.Contains(evs, "FailedCreatePodSandBox") {
		t.Errorf("events %s", evs)
	}
	h.net.mu.Lock()
	h.net.setupErr = nil
	h.net.mu.Unlock()
	h.sync(w)
	if n := len(h.rt.started()); n != 1 {
		t.Errorf("%d starts once the network works, want 1", n)
	}
}

func TestHostNetworkWithoutPodNetwork(t *testing.T) {
	h := newHarness(t, false)
	w := h.worker(testPod("hostnet", corev1.RestartPolicyAlways, ctr("app")))
	h.sync(w)
	st := h.status(w)
	if st.PodIP != "192.0.2.10" || st.Phase != corev1.PodRunning {
		t.Errorf("podIP %q phase %s, want the node IP and Running", st.PodIP, st.Phase)
	}
	if spec, _ := h.rt.lastSpec("app"); spec.NetNS != "" {
		t.Errorf("netns %q without a pod network", spec.NetNS)
	}
}

func TestAdoptKeepsRestartCount(t *testing.T) {
	h := newHarness(t, true)
	pod := testPod("adopt", corev1.RestartPolicyAlways, ctr("app"))
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", RestartCount: 4}}
	w := h.worker(pod)
	h.sync(w)
	if !slices.Contains(h.rt.killed, "adopt-uid") {
		t.Error("leftover processes of the pod were not ended")
	}
	if spec, _ := h.rt.lastSpec("app"); spec.RestartCount != 5 {
		t.Errorf("log instance %d, want 5 (instance 4 ran under the old kubelet)", spec.RestartCount)
	}
	if cs := ctrStatus(t, h.status(w).ContainerStatuses, "app"); cs.RestartCount != 4 {
		t.Errorf("restartCount %d, want 4", cs.RestartCount)
	}
}

// TestStatusFieldsOfOthersNoRepatch: status fields the kubelet does not
// own (set by the scheduler or an evicting controller) must not make
// every sync send the status again.
func TestStatusFieldsOfOthersNoRepatch(t *testing.T) {
	cases := []struct {
		name string
		set  func(*corev1.PodStatus)
	}{
		{"nominatedNodeName", func(s *corev1.PodStatus) { s.NominatedNodeName = "node1" }},
		{"message", func(s *corev1.PodStatus) { s.Message = "set by someone else" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, true)
			pod := testPod("other", corev1.RestartPolicyAlways, ctr("app"))
			tc.set(&pod.Status)
			w := h.worker(pod)
			h.sync(w)
			h.sync(w)
			h.sync(w)
			if n := h.statusPatches(); n != 1 {
				t.Fatalf("%s kept by the API makes every sync patch again: %d patches in 3 syncs", tc.name, n)
			}
		})
	}
}

func TestBackoffResetsAfterLongRun(t *testing.T) {
	h := newHarness(t, true)
	w := h.worker(testPod("long", corev1.RestartPolicyAlways, ctr("app")))
	h.sync(w)
	for range 2 { // two quick crashes: the next restart would wait 10 s
		h.rt.exit(t, "app", 1)
		h.clock.Step(10 * time.Second)
		h.sync(w)
	}
	if n := len(h.rt.started()); n != 3 {
		t.Fatalf("%d starts, want 3", n)
	}
	h.clock.Step(10 * time.Minute) // a long, healthy run
	h.rt.exit(t, "app", 1)
	h.sync(w)
	if n := len(h.rt.started()); n != 4 {
		t.Errorf("%d starts: a container that ran 10 min was not restarted at once", n)
	}
}

// TestAdoptKeepsEndedContainers: a kubelet restart must not run again
// what had already ended — completed init containers, a container that
// exited under restartPolicy Never — nor lose their logs.
func TestAdoptKeepsEndedContainers(t *testing.T) {
	h := newHarness(t, true)
	pod := testPod("ended", corev1.RestartPolicyNever, ctr("done"), ctr("runs"))
	pod.Spec.InitContainers = []corev1.Container{ctr("init")}
	ended := func(code int32) corev1.ContainerState {
		return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: "Completed", ContainerID: "rudder://old"}}
	}
	pod.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "init", State: ended(0)}}
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "done", State: ended(0)},
		{Name: "runs", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}
	w := h.worker(pod)
	h.sync(w)
	for _, name := range []string{"init", "done"} {
		if _, ok := h.rt.lastSpec(name); ok {
			t.Errorf("%s ran again after the kubelet restart", name)
		}
	}
	if _, ok := h.rt.lastSpec("runs"); !ok {
		t.Error("the running container was not started again")
	}
	st := h.status(w)
	if cs := ctrStatus(t, st.ContainerStatuses, "done"); cs.State.Terminated == nil || cs.State.Terminated.Reason != "Completed" {
		t.Errorf("done: %+v, want still terminated", cs.State)
	}
	if cs := ctrStatus(t, st.ContainerStatuses, "runs"); cs.RestartCount != 1 {
		t.Errorf("runs: restartCount %d, want 1 (its process ended with the old kubelet)", cs.RestartCount)
	}
	h.k.mu.Lock()
	h.k.workers[w.uid] = w
	h.k.mu.Unlock()
	if _, err := h.k.LogFile("default", "ended", "done", false); err != nil {
		t.Errorf("logs of the ended container: %v", err)
	}
}
