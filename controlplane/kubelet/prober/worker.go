package prober

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Probe timing defaults, as upstream's API defaulting.
const (
	DefaultPeriod           = 10 * time.Second
	DefaultSuccessThreshold = 1
	DefaultFailureThreshold = 3
)

// worker probes one container of one pod for one kind, periodically.
// Its fields after construction are owned by its goroutine.
type worker struct {
	m         *Manager
	pod       *corev1.Pod
	container *corev1.Container
	kind      Kind
	spec      *corev1.Probe

	ctx      context.Context
	cancel   context.CancelFunc
	triggerC chan struct{}

	containerID string
	lastResult  Result
	resultRun   int
	// onHold stops probing after a liveness or startup failure until the
	// container is replaced (a new container ID).
	onHold bool
}

func newWorker(m *Manager, pod *corev1.Pod, c *corev1.Container, k Kind, p *corev1.Probe) *worker {
	ctx, cancel := context.WithCancel(context.Background())
	return &worker{m: m, pod: pod, container: c, kind: k, spec: p,
		ctx: ctx, cancel: cancel, triggerC: make(chan struct{}, 1), lastResult: Unknown}
}

func (w *worker) stop() { w.cancel() }

// trigger asks for a probe now, without waiting for the period.
func (w *worker) trigger() {
	select {
	case w.triggerC <- struct{}{}:
	default:
	}
}

func period(p *corev1.Probe) time.Duration {
	if p.PeriodSeconds <= 0 {
		return DefaultPeriod
	}
	return time.Duration(p.PeriodSeconds) * time.Second
}

func thresholds(p *corev1.Probe) (success, failure int) {
	success, failure = int(p.SuccessThreshold), int(p.FailureThreshold)
	if success <= 0 {
		success = DefaultSuccessThreshold
	}
	if failure <= 0 {
		failure = DefaultFailureThreshold
	}
	return success, failure
}

// run probes now and then every period until doProbe says stop or the
// worker is stopped.
func (w *worker) run() {
	defer w.m.workerDone(w)
	t := w.m.cfg.Clock.NewTicker(period(w.spec))
	defer t.Stop()
	for w.doProbe() {
		select {
		case <-w.ctx.Done():
			return
		case <-t.C():
		case <-w.triggerC:
		}
	}
}

// doProbe runs one round and reports whether the worker should go on.
func (w *worker) doProbe() bool {
	if w.ctx.Err() != nil {
		return false
	}
	pod, ok := w.m.cfg.Pod(w.pod.UID)
	if !ok {
		return true // not yet known; keep waiting
	}
	if pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded {
		return false
	}
	c, ok := containerStatus(&pod.Status, w.container.Name)
	if !ok || c.ContainerID == "" {
		return true // not created yet
	}
	if c.ContainerID != w.containerID {
		w.newContainer(c.ContainerID)
	}
	if w.onHold {
		return true
	}
	if c.State.Running == nil {
		w.m.setResult(w, w.containerID, Failure, "container is not running")
		// Stop for good only when the container will never run again.
		return c.State.Terminated == nil || pod.Spec.RestartPolicy != corev1.RestartPolicyNever
	}
	if pod.DeletionTimestamp != nil && w.kind != Readiness {
		// A pod shutting down is not restarted by its probes.
		w.m.setResult(w, w.containerID, Success, "pod is terminating")
		return true
	}
	if w.m.cfg.Clock.Since(c.State.Running.StartedAt.Time) < time.Duration(w.spec.InitialDelaySeconds)*time.Second {
		return true
	}
	// Startup probes stop once the container started; the others wait
	// for it.
	if started := w.startupDone(c); (w.kind == Startup) == started {
		return true
	}
	w.probeOnce(pod, c)
	return true
}

// newContainer resets the worker for a new container instance.
func (w *worker) newContainer(id string) {
	if w.containerID != "" {
		w.m.forget(w.containerID, w.kind)
	}
	w.containerID = id
	w.lastResult, w.resultRun, w.onHold = Unknown, 0, false
	w.m.setResult(w, id, initialResult(w.kind), "new container")
}

// startupDone says whether c has passed its startup probe (or has none).
func (w *worker) startupDone(c *corev1.ContainerStatus) bool {
	if w.container.StartupProbe == nil || (c.Started != nil && *c.Started) {
		return true
	}
	r, ok := w.m.Result(c.ContainerID, Startup)
	return ok && r == Success
}

// probeOnce runs the probe and applies the thresholds.
func (w *worker) probeOnce(pod *corev1.Pod, c *corev1.ContainerStatus) {
	t := Target{PodIP: pod.Status.PodIP, Container: w.container}
	if w.m.cfg.Exec != nil {
		t.Exec = w.m.cfg.Exec(pod, w.container.Name, c.ContainerID)
	}
	result, msg := w.m.cfg.Runner.Probe(w.ctx, w.spec, t)
	switch {
	case w.ctx.Err() != nil:
		return // stopped while probing
	case result == Warning:
		result = Success
	case result == Unknown:
		w.m.log.Warn("probe errored", "pod", pod.Namespace+"/"+pod.Name, "container", w.container.Name,
			"kind", w.kind.String(), "message", msg)
		return
	}
	if result == w.lastResult {
		w.resultRun++
	} else {
		w.lastResult, w.resultRun = result, 1
	}
	success, failure := thresholds(w.spec)
	if (result == Failure && w.resultRun < failure) || (result == Success && w.resultRun < success) {
		return
	}
	w.m.setResult(w, w.containerID, result, msg)
	if result == Failure && w.kind != Readiness {
		// The kubelet restarts the container; wait for the new one.
		w.onHold, w.resultRun = true, 0
	}
}
