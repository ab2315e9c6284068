package kubelet

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// observed is everything a pod's status is computed from.
type observed struct {
	pod         *corev1.Pod
	hostIPs     []string
	podIPs      []string
	sandboxOK   bool
	initDone    bool
	init, ctrs  []*ctrState
	startTime   time.Time
	failMessage string // pod-level failure (e.g. init container failed with restartPolicy Never)
	now         time.Time
}

// podStatus is the status the kubelet reports: a pure function of what
// it observed, with transition times kept from the previous status.
func podStatus(o observed) corev1.PodStatus {
	prev := o.pod.Status
	// Fields the kubelet does not own (nominatedNodeName, resize, …) are
	// kept as the API holds them.
	st := *prev.DeepCopy()
	if o.failMessage != "" {
		st.Message = o.failMessage
	}
	st.HostIP, st.HostIPs, st.PodIP, st.PodIPs = "", nil, "", nil
	st.InitContainerStatuses, st.ContainerStatuses = nil, nil
	if st.StartTime == nil && !o.startTime.IsZero() {
		t := metav1.NewTime(o.startTime)
		st.StartTime = &t
	}
	if st.QOSClass == "" {
		st.QOSClass = qosClass(o.pod)
	}
	if len(o.hostIPs) > 0 {
		st.HostIP = o.hostIPs[0]
		for _, ip := range o.hostIPs {
			st.HostIPs = append(st.HostIPs, corev1.HostIP{IP: ip})
		}
	}
	if len(o.podIPs) > 0 {
		st.PodIP = o.podIPs[0]
		for _, ip := range o.podIPs {
			st.PodIPs = append(st.PodIPs, corev1.PodIP{IP: ip})
		}
	}
	for i, c := range o.pod.Spec.InitContainers {
		st.InitContainerStatuses = append(st.InitContainerStatuses, containerStatus(c, o.init[i]))
	}
	for i, c := range o.pod.Spec.Containers {
		st.ContainerStatuses = append(st.ContainerStatuses, containerStatus(c, o.ctrs[i]))
	}
	st.Phase = podPhase(o, st)
	if st.Phase == corev1.PodFailed && st.Message != "" && st.Reason == "" {
		st.Reason = "Failed"
	}
	st.Conditions = podConditions(o, st)
	return st
}

// containerStatus renders one container's state, lastState and counters.
func containerStatus(c corev1.Container, s *ctrState) corev1.ContainerStatus {
	cs := corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: "rudder://" + c.Image,
		RestartCount: int32(s.restarts), Ready: s.ready && s.running()}
	if s.id != "" {
		cs.ContainerID = "rudder://" + s.id
	}
	started := s.running() && s.startupOK
	cs.Started = &started
	switch t := s.exited(); {
	case s.running():
		cs.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(s.cur.StartedAt())}
		if s.last != nil {
			cs.LastTerminationState.Terminated = terminated(s.last)
		}
	case t != nil && s.waitReason == "":
		cs.State.Terminated = terminated(t)
		if s.last != nil {
			cs.LastTerminationState.Terminated = terminated(s.last)
		}
	default:
		reason := s.waitReason
		if reason == "" {
			reason = "ContainerCreating"
		}
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: reason, Message: s.waitMessage}
		if t != nil {
			cs.LastTerminationState.Terminated = terminated(t)
		} else if s.last != nil {
			cs.LastTerminationState.Terminated = terminated(s.last)
		}
	}
	return cs
}

func terminated(t *termination) *corev1.ContainerStateTerminated {
	ts := &corev1.ContainerStateTerminated{ExitCode: int32(t.exitCode), Reason: t.reason, Message: t.message,
		StartedAt: metav1.NewTime(t.startedAt), FinishedAt: metav1.NewTime(t.finishedAt)}
	if t.id != "" {
		ts.ContainerID = "rudder://" + t.id
	}
	return ts
}

// podPhase is upstream's getPhase over the rendered container statuses.
func podPhase(o observed, st corev1.PodStatus) corev1.PodPhase {
	if o.failMessage != "" {
		return corev1.PodFailed
	}
	if !o.initDone {
		return corev1.PodPending
	}
	var waiting, running, stopped, succeeded int
	for _, cs := range st.ContainerStatuses {
		switch {
		case cs.State.Running != nil:
			running++
		case cs.State.Terminated != nil:
			stopped++
			if cs.State.Terminated.ExitCode == 0 {
				succeeded++
			}
		case cs.LastTerminationState.Terminated != nil:
			stopped++
			if cs.LastTerminationState.Terminated.ExitCode == 0 {
				succeeded++
			}
		default:
			waiting++
		}
	}
	switch {
	case waiting > 0:
		return corev1.PodPending
	case running > 0:
		return corev1.PodRunning
	case stopped > 0:
		switch o.pod.Spec.RestartPolicy {
		case corev1.RestartPolicyNever:
			if stopped == succeeded {
				return corev1.PodSucceeded
			}
			return corev1.PodFailed
		case corev1.RestartPolicyOnFailure:
			if stopped == succeeded {
				return corev1.PodSucceeded
			}
			return corev1.PodRunning
		default:
			return corev1.PodRunning
		}
	}
	return corev1.PodPending
}

// podConditions renders the kubelet's conditions, keeping transition
// times of unchanged ones and conditions owned by others.
func podConditions(o observed, st corev1.PodStatus) []corev1.PodCondition {
	containersReady := len(st.ContainerStatuses) > 0
	for _, cs := range st.ContainerStatuses {
		containersReady = containersReady && cs.Ready
	}
	terminal := st.Phase == corev1.PodSucceeded || st.Phase == corev1.PodFailed
	want := []struct {
		t      corev1.PodConditionType
		ok     bool
		reason string
	}{
		{corev1.PodReadyToStartContainers, o.sandboxOK && !terminal, ""},
		{corev1.PodInitialized, o.initDone, reasonIf(!o.initDone, "ContainersNotInitialized")},
		{corev1.ContainersReady, containersReady, reasonIf(!containersReady, "ContainersNotReady")},
		{corev1.PodReady, containersReady && readinessGatesOK(o.pod), reasonIf(!containersReady, "ContainersNotReady")},
	}
	if terminal {
		want[2].reason, want[3].reason = "PodCompleted", "PodCompleted"
		if want[1].ok {
			want[1].reason = "PodCompleted"
		}
	}
	var out []corev1.PodCondition
	owned := map[corev1.PodConditionType]bool{}
	for _, w := range want {
		owned[w.t] = true
		out = append(out, condition(o.pod.Status.Conditions, w.t, w.ok, w.reason, o.now))
	}
	for _, c := range o.pod.Status.Conditions {
		if !owned[c.Type] {
			out = append(out, c)
		}
	}
	return out
}

func reasonIf(b bool, reason string) string {
	if b {
		return reason
	}
	return ""
}

func condition(prev []corev1.PodCondition, t corev1.PodConditionType, ok bool, reason string, now time.Time) corev1.PodCondition {
	status := corev1.ConditionFalse
	if ok {
		status = corev1.ConditionTrue
	}
	c := corev1.PodCondition{Type: t, Status: status, Reason: reason, LastTransitionTime: metav1.NewTime(now)}
	for _, p := range prev {
		if p.Type == t && p.Status == status {
			c.LastTransitionTime = p.LastTransitionTime
		}
	}
	return c
}

func readinessGatesOK(pod *corev1.Pod) bool {
	for _, g := range pod.Spec.ReadinessGates {
		found := false
		for _, c := range pod.Status.Conditions {
			if c.Type == g.ConditionType {
				found = c.Status == corev1.ConditionTrue
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// qosClass is upstream's QoS classification of a pod.
func qosClass(pod *corev1.Pod) corev1.PodQOSClass {
	requests, limits := 0, 0
	guaranteed := true
	all := append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...)
	for _, c := range all {
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, hasReq := c.Resources.Requests[r]
			lim, hasLim := c.Resources.Limits[r]
			if hasReq && !req.IsZero() {
				requests++
			}
			if hasLim && !lim.IsZero() {
				limits++
			}
			if !hasLim || (hasReq && req.Cmp(lim) != 0) {
				guaranteed = false
			}
		}
	}
	switch {
	case requests == 0 && limits == 0:
		return corev1.PodQOSBestEffort
	case guaranteed:
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}
