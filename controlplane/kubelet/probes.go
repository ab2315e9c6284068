package kubelet

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"rudder/controlplane/kubelet/prober"
)

// newProbeManager runs the pods' probes and feeds their results back to
// the pod workers.
func (k *Kubelet) newProbeManager() (*prober.Manager, error) {
	return prober.NewManager(prober.ManagerConfig{
		Runner: prober.New(prober.Config{}),
		Pod:    k.probeView,
		Exec:   k.probeExec,
		OnUpdate: func(u prober.Update) {
			k.mu.Lock()
			w := k.workers[u.PodUID]
			k.mu.Unlock()
			if w != nil {
				w.probeResult(u)
			}
		},
		Clock:  k.clock,
		Logger: k.log,
	})
}

// watchProbes starts the probes of a new container instance.
func (k *Kubelet) watchProbes(w *podWorker, pod *corev1.Pod, c *corev1.Container, s *ctrState) {
	if c.StartupProbe == nil && c.ReadinessProbe == nil && c.LivenessProbe == nil {
		return
	}
	w.publishView()
	k.probes.AddPod(pod)
}

// forgetProbes stops the probes of a pod.
func (k *Kubelet) forgetProbes(uid types.UID) { k.probes.RemovePod(uid) }

// probeView is the pod as the kubelet sees it now (the status it computed
// last), which probe workers follow.
func (k *Kubelet) probeView(uid types.UID) (*corev1.Pod, bool) {
	k.mu.Lock()
	w := k.workers[uid]
	k.mu.Unlock()
	if w == nil {
		return nil, false
	}
	p := w.view.Load()
	return p, p != nil
}

// probeExec runs exec probes in the container instance they are for.
func (k *Kubelet) probeExec(pod *corev1.Pod, container, containerID string) func(context.Context, []string) (int, []byte, error) {
	return func(ctx context.Context, cmd []string) (int, []byte, error) {
		_, e, err := k.container(pod.Namespace, pod.Name, container)
		if err != nil {
			return 0, nil, err
		}
		if "rudder://"+e.c.ID() != containerID {
			return 0, nil, fmt.Errorf("container %s changed while probing", container)
		}
		var out limitedBuffer
		code, err := k.rt.Exec(ctx, e.c, cmd, ExecStreams{Stdout: &out, Stderr: &out})
		return code, []byte(out.String()), err
	}
}

// probeResult queues a probe result for the worker's goroutine.
func (w *podWorker) probeResult(u prober.Update) {
	w.probeMu.Lock()
	w.probeQueue = append(w.probeQueue, u)
	w.probeMu.Unlock()
	w.poke()
}

// applyProbes applies queued probe results to the containers they are
// about: readiness and startup flags, a restart for a failed liveness
// probe.
func (w *podWorker) applyProbes(pod *corev1.Pod) {
	w.probeMu.Lock()
	queue := w.probeQueue
	w.probeQueue = nil
	w.probeMu.Unlock()
	for _, u := range queue {
		for i, s := range w.ctrs {
			if s.cur == nil || "rudder://"+s.id != u.ContainerID || !s.running() {
				continue
			}
			ok := u.Result == prober.Success || u.Result == prober.Warning
			c := &pod.Spec.Containers[i]
			switch u.Kind {
			case prober.Readiness:
				if !ok && s.ready { // not for the initial "not ready yet"
					w.k.recorder.Eventf(pod, corev1.EventTypeWarning, "Unhealthy", "Readiness probe failed: %s", oneLine(u.Message))
				}
				s.ready = ok && s.startupOK
			case prober.Startup:
				s.startupOK = ok
				if ok && c.ReadinessProbe == nil {
					s.ready = true
				}
				if u.Result == prober.Failure {
					w.k.recorder.Eventf(pod, corev1.EventTypeWarning, "Unhealthy", "Startup probe failed: %s", oneLine(u.Message))
					w.kill(s, c, pod, "Unhealthy")
				}
			case prober.Liveness:
				if u.Result == prober.Failure {
					w.k.recorder.Eventf(pod, corev1.EventTypeWarning, "Unhealthy", "Liveness probe failed: %s", oneLine(u.Message))
					w.kill(s, c, pod, "Unhealthy")
				}
			}
		}
	}
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " …"
	}
	return s
}

// publishView makes the worker's current view of its pod (spec plus the
// status it would report) available to the probe workers.
func (w *podWorker) publishView() {
	if w.pod == nil {
		return
	}
	p := w.pod.DeepCopy()
	p.Status = podStatus(w.observe())
	w.view.Store(p)
}
