package prober

import (
	corev1 "k8s.io/api/core/v1"
)

// Kind is a probe's role.
type Kind int

const (
	// Liveness probes restart a container that fails them.
	Liveness Kind = iota
	// Readiness probes decide whether a container is Ready.
	Readiness
	// Startup probes hold liveness and readiness back until they succeed.
	Startup
)

func (k Kind) String() string {
	switch k {
	case Liveness:
		return "liveness"
	case Readiness:
		return "readiness"
	case Startup:
		return "startup"
	default:
		return "unknown"
	}
}

// probeOf returns the container's probe of kind k, or nil.
func probeOf(c *corev1.Container, k Kind) *corev1.Probe {
	switch k {
	case Liveness:
		return c.LivenessProbe
	case Readiness:
		return c.ReadinessProbe
	case Startup:
		return c.StartupProbe
	}
	return nil
}

// initialResult is what a kind reports for a new container before its
// first conclusive probe: liveness starts healthy, readiness not ready,
// startup unknown.
func initialResult(k Kind) Result {
	switch k {
	case Liveness:
		return Success
	case Readiness:
		return Failure
	default:
		return Unknown
	}
}

// DefaultTerminationGracePeriodSeconds is a pod's grace period when its
// spec sets none.
const DefaultTerminationGracePeriodSeconds int64 = 30

// KillGracePeriod returns how long the kubelet gives a container it kills
// because probe p (liveness or startup) failed: the probe's own
// terminationGracePeriodSeconds when set, else the pod's.
func KillGracePeriod(pod *corev1.Pod, p *corev1.Probe) int64 {
	if p != nil && p.TerminationGracePeriodSeconds != nil {
		return *p.TerminationGracePeriodSeconds
	}
	if pod != nil && pod.Spec.TerminationGracePeriodSeconds != nil {
		return *pod.Spec.TerminationGracePeriodSeconds
	}
	return DefaultTerminationGracePeriodSeconds
}

// probedContainers returns the containers the kubelet probes: regular
// containers and restartable (sidecar) init containers.
func probedContainers(pod *corev1.Pod) []*corev1.Container {
	var out []*corev1.Container
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			out = append(out, c)
		}
	}
	for i := range pod.Spec.Containers {
		out = append(out, &pod.Spec.Containers[i])
	}
	return out
}

// containerStatus finds the status of container name in s.
func containerStatus(s *corev1.PodStatus, name string) (*corev1.ContainerStatus, bool) {
	for _, list := range [][]corev1.ContainerStatus{s.ContainerStatuses, s.InitContainerStatuses} {
		for i := range list {
			if list[i].Name == name {
				return &list[i], true
			}
		}
	}
	return nil, false
}
