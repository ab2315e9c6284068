package tables

import (
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var podHeaders = []string{"Name", "Ready", "Status", "Restarts", "Age", "IP+", "Node+", "Nominated Node+", "Readiness Gates+"}

func running(name string, restarts int32, lastExit time.Duration) corev1.ContainerStatus {
	st := corev1.ContainerStatus{
		Name: name, Ready: true, RestartCount: restarts,
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: ago(time.Minute)}},
	}
	if lastExit > 0 {
		st.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: 1, FinishedAt: ago(lastExit)}
	}
	return st
}

func waiting(name, reason string, restarts int32) corev1.ContainerStatus {
	return corev1.ContainerStatus{
		Name: name, RestartCount: restarts,
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}},
	}
}

func terminated(name, reason string, code, signal int32) corev1.ContainerStatus {
	return corev1.ContainerStatus{
		Name:  name,
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: reason, ExitCode: code, Signal: signal}},
	}
}

func containers(names ...string) []corev1.Container {
	out := make([]corev1.Container, len(names))
	for i, n := range names {
		out[i] = corev1.Container{Name: n, Image: n + ":1"}
	}
	return out
}

func pod(phase corev1.PodPhase, statuses ...corev1.ContainerStatus) *corev1.Pod {
	names := make([]string, len(statuses))
	for i, s := range statuses {
		names[i] = s.Name
	}
	if len(names) == 0 {
		names = []string{"app"}
	}
	return &corev1.Pod{
		ObjectMeta: objMeta("web", 3*24*time.Hour),
		Spec:       corev1.PodSpec{Containers: containers(names...), NodeName: "node-1"},
		Status: corev1.PodStatus{
			Phase: phase, ContainerStatuses: statuses,
			PodIP: "10.244.1.5", PodIPs: []corev1.PodIP{{IP: "10.244.1.5"}, {IP: "fd00::5"}},
		},
	}
}

func podCellsWant(ready, status, restarts string) []interface{} {
	return []interface{}{"web", ready, status, restarts, "3d", "10.244.1.5", "node-1", "<none>", "<none>"}
}

func TestPodStatus(t *testing.T) {
	initPod := func(init corev1.ContainerStatus) *corev1.Pod {
		p := pod(corev1.PodPending, waiting("app", "PodInitializing", 0))
		p.Spec.InitContainers = containers("setup")
		p.Status.InitContainerStatuses = []corev1.ContainerStatus{init}
		return p
	}
	sidecar := func() *corev1.Pod {
		p := pod(corev1.PodRunning, running("app", 0, 0))
		p.Spec.InitContainers = containers("proxy")
		p.Spec.InitContainers[0].RestartPolicy = ptr(corev1.ContainerRestartPolicyAlways)
		st := running("proxy", 2, 10*time.Minute)
		st.Started = ptr(true)
		p.Status.InitContainerStatuses = []corev1.ContainerStatus{st}
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodInitialized, Status: corev1.ConditionTrue}}
		return p
	}
	deleting := func(p *corev1.Pod, reason string) *corev1.Pod {
		p.DeletionTimestamp = agoPtr(time.Second)
		p.Status.Reason = reason
		return p
	}
	gated := pod(corev1.PodPending)
	gated.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Reason: corev1.PodReasonSchedulingGated}}

	runKindCases(t, []kindCase{
		{"running with restarts", pod(corev1.PodRunning, running("app", 3, 5*time.Minute)), podHeaders, podCellsWant("1/1", "Running", "3 (5m ago)")},
		{"pending no statuses", pod(corev1.PodPending), podHeaders, podCellsWant("0/1", "Pending", "0")},
		{"crashloop", pod(corev1.PodRunning, running("a", 0, 0), waiting("b", "CrashLoopBackOff", 4)), podHeaders, podCellsWant("1/2", "CrashLoopBackOff", "4")},
		{"image pull", pod(corev1.PodPending, waiting("app", "ErrImagePull", 0)), podHeaders, podCellsWant("0/1", "ErrImagePull", "0")},
		{"init waiting", initPod(waiting("setup", "PodInitializing", 0)), podHeaders, podCellsWant("0/1", "Init:0/1", "0")},
		{"init crashloop", initPod(waiting("setup", "CrashLoopBackOff", 2)), podHeaders, podCellsWant("0/1", "Init:CrashLoopBackOff", "2")},
		{"init failed", initPod(terminated("setup", "", 2, 0)), podHeaders, podCellsWant("0/1", "Init:ExitCode:2", "0")},
		{"init signal", initPod(terminated("setup", "", 137, 9)), podHeaders, podCellsWant("0/1", "Init:Signal:9", "0")},
		{"init done", initPod(terminated("setup", "Completed", 0, 0)), podHeaders, podCellsWant("0/1", "PodInitializing", "0")},
		{"sidecar", sidecar(), podHeaders, podCellsWant("2/2", "Running", "2 (10m ago)")},
		{"completed", pod(corev1.PodSucceeded, terminated("app", "Completed", 0, 0)), podHeaders, podCellsWant("0/1", "Completed", "0")},
		{"error exit", pod(corev1.PodFailed, terminated("app", "Error", 1, 0)), podHeaders, podCellsWant("0/1", "Error", "0")},
		{"signal", pod(corev1.PodFailed, terminated("app", "", 137, 9)), podHeaders, podCellsWant("0/1", "Signal:9", "0")},
		{"completed but one running", pod(corev1.PodRunning, running("a", 0, 0), terminated("b", "Completed", 0, 0)), podHeaders, podCellsWant("1/2", "NotReady", "0")},
		{"completed but one failed", pod(corev1.PodRunning, terminated("a", "Completed", 0, 0), terminated("b", "OOMKilled", 137, 0)), podHeaders, podCellsWant("0/2", "OOMKilled", "0")},
		{"terminating", deleting(pod(corev1.PodRunning, running("app", 0, 0)), ""), podHeaders, podCellsWant("1/1", "Terminating", "0")},
		{"terminating finished", deleting(pod(corev1.PodSucceeded, terminated("app", "Completed", 0, 0)), ""), podHeaders, podCellsWant("0/1", "Completed", "0")},
		{"node lost", deleting(pod(corev1.PodRunning, running("app", 0, 0)), "NodeLost"), podHeaders, podCellsWant("1/1", "Unknown", "0")},
		{"evicted", func() *corev1.Pod { p := pod(corev1.PodFailed); p.Status.Reason = "Evicted"; return p }(), podHeaders, podCellsWant("0/1", "Evicted", "0")},
		{"scheduling gated", gated, podHeaders, podCellsWant("0/1", "SchedulingGated", "0")},
	})
}

func TestPodWideCells(t *testing.T) {
	p := pod(corev1.PodRunning, running("app", 0, 0))
	p.Spec.NodeName = ""
	p.Status.PodIPs, p.Status.PodIP = nil, ""
	p.Status.NominatedNodeName = "node-2"
	p.Spec.ReadinessGates = []corev1.PodReadinessGate{{ConditionType: "example.com/lb"}, {ConditionType: "example.com/dns"}}
	p.Status.Conditions = []corev1.PodCondition{
		{Type: "example.com/lb", Status: corev1.ConditionTrue},
		{Type: "example.com/dns", Status: corev1.ConditionFalse},
	}
	runKindCases(t, []kindCase{{"wide", p, podHeaders,
		[]interface{}{"web", "1/1", "Running", "0", "3d", "<none>", "<none>", "node-2", "1/2"}}})

	legacy := pod(corev1.PodRunning, running("app", 0, 0))
	legacy.Status.PodIPs = nil
	runKindCases(t, []kindCase{{"podIP only", legacy, podHeaders, podCellsWant("1/1", "Running", "0")}})
}

func TestPodConditions(t *testing.T) {
	for phase, want := range map[corev1.PodPhase][]metav1.TableRowCondition{
		corev1.PodRunning:   nil,
		corev1.PodSucceeded: {{Type: metav1.RowCompleted, Status: metav1.ConditionTrue, Reason: "Succeeded", Message: "The pod has completed successfully."}},
		corev1.PodFailed:    {{Type: metav1.RowCompleted, Status: metav1.ConditionTrue, Reason: "Failed", Message: "The pod failed."}},
	} {
		table, err := Convert(pod(phase), Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if got := table.Rows[0].Conditions; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: conditions %+v, want %+v", phase, got, want)
		}
	}
}
