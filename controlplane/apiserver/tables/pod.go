package tables

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// nodeLostReason is the pod status reason the node lifecycle controller sets
// on pods of an unreachable node.
const nodeLostReason = "NodeLost"

func podPrinter() printer {
	p := typed(corev1.SchemeGroupVersion.WithKind("Pod"), []metav1.TableColumnDefinition{
		nameColumn(),
		column("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
		column("Status", "string", "The aggregate status of the containers in this pod."),
		column("Restarts", "string", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
		ageColumn(),
		wide(column("IP", "string", corev1.PodStatus{}.SwaggerDoc()["podIP"])),
		wide(column("Node", "string", corev1.PodSpec{}.SwaggerDoc()["nodeName"])),
		wide(column("Nominated Node", "string", corev1.PodStatus{}.SwaggerDoc()["nominatedNodeName"])),
		wide(column("Readiness Gates", "string", corev1.PodSpec{}.SwaggerDoc()["readinessGates"])),
	}, podCells)
	p.conditions = func(obj runtime.Object) []metav1.TableRowCondition { return podConditions(obj.(*corev1.Pod)) }
	return p
}

// podConditions marks finished pods Completed, which kubectl uses to hide
// them unless --show-all is meant.
func podConditions(pod *corev1.Pod) []metav1.TableRowCondition {
	switch pod.Status.Phase {
	case corev1.PodSucceeded:
		return []metav1.TableRowCondition{{Type: metav1.RowCompleted, Status: metav1.ConditionTrue, Reason: string(corev1.PodSucceeded), Message: "The pod has completed successfully."}}
	case corev1.PodFailed:
		return []metav1.TableRowCondition{{Type: metav1.RowCompleted, Status: metav1.ConditionTrue, Reason: string(corev1.PodFailed), Message: "The pod failed."}}
	}
	return nil
}

func podCells(pod *corev1.Pod, now time.Time) []interface{} {
	s := summarizePod(pod)
	restarts := fmt.Sprint(s.restarts)
	if s.restarts != 0 && !s.lastRestart.IsZero() {
		restarts = fmt.Sprintf("%d (%s ago)", s.restarts, age(metav1.NewTime(s.lastRestart), now))
	}
	return []interface{}{
		pod.Name, fmt.Sprintf("%d/%d", s.ready, s.total), s.reason, restarts, age(pod.CreationTimestamp, now),
		orNone(podIP(pod)), orNone(pod.Spec.NodeName), orNone(pod.Status.NominatedNodeName), readinessGates(pod),
	}
}

// podSummary is what the READY, STATUS and RESTARTS cells say.
type podSummary struct {
	reason       string
	ready, total int
	restarts     int
	lastRestart  time.Time
	// restarts of sidecar (restartable init) containers only
	sidecarRestarts    int
	lastSidecarRestart time.Time
}

func summarizePod(pod *corev1.Pod) podSummary {
	s := podSummary{reason: string(pod.Status.Phase), total: len(pod.Spec.Containers)}
	if pod.Status.Reason != "" {
		s.reason = pod.Status.Reason
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Reason == corev1.PodReasonSchedulingGated {
			s.reason = corev1.PodReasonSchedulingGated
		}
	}
	for i := range pod.Spec.InitContainers {
		if isSidecar(&pod.Spec.InitContainers[i]) {
			s.total++
		}
	}
	initializing := s.walkInitContainers(pod)
	if !initializing || podConditionTrue(pod, corev1.PodInitialized) {
		s.walkContainers(pod)
	}
	switch {
	case pod.DeletionTimestamp != nil && pod.Status.Reason == nodeLostReason:
		s.reason = "Unknown"
	case pod.DeletionTimestamp != nil && !podTerminal(pod.Status.Phase):
		s.reason = "Terminating"
	}
	return s
}

// walkInitContainers counts init container restarts and sets an "Init:…"
// reason at the first init container that has not finished. It reports
// whether the pod is still initializing.
func (s *podSummary) walkInitContainers(pod *corev1.Pod) bool {
	specs := map[string]*corev1.Container{}
	for i := range pod.Spec.InitContainers {
		specs[pod.Spec.InitContainers[i].Name] = &pod.Spec.InitContainers[i]
	}
	for i, st := range pod.Status.InitContainerStatuses {
		sidecar := isSidecar(specs[st.Name])
		s.countRestarts(st, sidecar)
		switch {
		case st.State.Terminated != nil && st.State.Terminated.ExitCode == 0:
			continue
		case sidecar && st.Started != nil && *st.Started:
			if st.Ready {
				s.ready++
			}
			continue
		case st.State.Terminated != nil:
			s.reason = "Init:" + terminatedReason(st.State.Terminated)
		case st.State.Waiting != nil && st.State.Waiting.Reason != "" && st.State.Waiting.Reason != "PodInitializing":
			s.reason = "Init:" + st.State.Waiting.Reason
		default:
			s.reason = fmt.Sprintf("Init:%d/%d", i, len(pod.Spec.InitContainers))
		}
		return true
	}
	return false
}

// walkContainers counts app container restarts (plus sidecar ones) and
// readiness, and takes the reason from the first container, in spec order,
// that is waiting or terminated.
func (s *podSummary) walkContainers(pod *corev1.Pod) {
	s.restarts, s.lastRestart = s.sidecarRestarts, s.lastSidecarRestart
	hasRunning, errorReason := false, ""
	statuses := pod.Status.ContainerStatuses
	for i := len(statuses) - 1; i >= 0; i-- {
		st := statuses[i]
		s.countRestarts(st, false)
		switch {
		case st.State.Waiting != nil && st.State.Waiting.Reason != "":
			s.reason = st.State.Waiting.Reason
		case st.State.Terminated != nil:
			s.reason = terminatedReason(st.State.Terminated)
			if st.State.Terminated.ExitCode != 0 {
				errorReason = s.reason
			}
		case st.Ready && st.State.Running != nil:
			hasRunning = true
			s.ready++
		}
	}
	if s.reason == "Completed" {
		s.reason = completedReason(pod, hasRunning, errorReason)
	}
}

// completedReason revises a "Completed" status when other containers still
// run (Running, or NotReady without the Ready condition) or one failed.
func completedReason(pod *corev1.Pod, hasRunning bool, errorReason string) string {
	switch {
	case hasRunning && podConditionTrue(pod, corev1.PodReady):
		return "Running"
	case errorReason != "":
		return errorReason
	case hasRunning:
		return "NotReady"
	}
	return "Completed"
}

func (s *podSummary) countRestarts(st corev1.ContainerStatus, sidecar bool) {
	s.restarts += int(st.RestartCount)
	var finished time.Time
	if t := st.LastTerminationState.Terminated; t != nil {
		finished = t.FinishedAt.Time
	}
	if finished.After(s.lastRestart) {
		s.lastRestart = finished
	}
	if !sidecar {
		return
	}
	s.sidecarRestarts += int(st.RestartCount)
	if finished.After(s.lastSidecarRestart) {
		s.lastSidecarRestart = finished
	}
}

func terminatedReason(t *corev1.ContainerStateTerminated) string {
	switch {
	case t.Reason != "":
		return t.Reason
	case t.Signal != 0:
		return fmt.Sprintf("Signal:%d", t.Signal)
	default:
		return fmt.Sprintf("ExitCode:%d", t.ExitCode)
	}
}

// isSidecar tells whether an init container is restartable (a sidecar).
func isSidecar(c *corev1.Container) bool {
	return c != nil && c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

func podTerminal(phase corev1.PodPhase) bool {
	return phase == corev1.PodSucceeded || phase == corev1.PodFailed
}

func podConditionTrue(pod *corev1.Pod, t corev1.PodConditionType) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// podIP is the pod's first IP; podIP alone counts when podIPs is unset, as
// the upstream conversion to the internal type does.
func podIP(pod *corev1.Pod) string {
	if len(pod.Status.PodIPs) > 0 {
		return pod.Status.PodIPs[0].IP
	}
	return pod.Status.PodIP
}

func readinessGates(pod *corev1.Pod) string {
	if len(pod.Spec.ReadinessGates) == 0 {
		return "<none>"
	}
	met := 0
	for _, g := range pod.Spec.ReadinessGates {
		if podConditionTrue(pod, g.ConditionType) {
			met++
		}
	}
	return fmt.Sprintf("%d/%d", met, len(pod.Spec.ReadinessGates))
}
