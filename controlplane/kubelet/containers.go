package kubelet

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// syncInit runs init containers one at a time, in order; it reports
// whether all of them have completed.
func (w *podWorker) syncInit(ctx context.Context, pod *corev1.Pod) bool {
	if w.initDone {
		return true
	}
	for i := range pod.Spec.InitContainers {
		c, s := &pod.Spec.InitContainers[i], w.init[i]
		if s.running() {
			return false
		}
		t := s.exited()
		if t != nil && t.exitCode == 0 && !s.stopping {
			s.waitReason = ""
			continue
		}
		if t != nil && pod.Spec.RestartPolicy == corev1.RestartPolicyNever {
			w.failed = fmt.Sprintf("init container %q failed with exit code %d", c.Name, t.exitCode)
			return false
		}
		w.startOrBackoff(ctx, pod, c, s, t)
		return false
	}
	w.initDone = true
	return true
}

// syncContainers starts containers that should run and restarts ended
// ones as the restart policy and the backoff allow.
func (w *podWorker) syncContainers(ctx context.Context, pod *corev1.Pod) {
	for i := range pod.Spec.Containers {
		c, s := &pod.Spec.Containers[i], w.ctrs[i]
		if s.running() {
			continue
		}
		t := s.exited()
		if t != nil && !shouldRestart(pod.Spec.RestartPolicy, t) {
			s.waitReason = ""
			continue
		}
		w.startOrBackoff(ctx, pod, c, s, t)
	}
}

// startOrBackoff starts a container's next instance now, or records
// CrashLoopBackOff and a timer when its backoff has not passed.
func (w *podWorker) startOrBackoff(ctx context.Context, pod *corev1.Pod, c *corev1.Container, s *ctrState, t *termination) {
	now := w.k.clock.Now()
	if t != nil {
		// First look at this instance's end: schedule its restart.
		if ranLongEnough(t) {
			s.crashes = 0
		}
		s.notBefore = t.finishedAt.Add(restartDelay(s.crashes))
		s.last = t
		s.cur = nil
		s.restartPending = true
		s.crashes++
		s.stopping = false
	}
	if now.Before(s.notBefore) {
		if s.waitReason != "ErrImagePull" && s.waitReason != "ImagePullBackOff" && s.waitReason != "CreateContainerConfigError" {
			s.waitReason = "CrashLoopBackOff"
			s.waitMessage = fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)",
				restartDelay(s.crashes-1), c.Name, pod.Name, pod.Namespace, pod.UID)
		}
		w.wakeAt(s.notBefore)
		return
	}
	w.start(ctx, pod, c, s)
}

// start launches one instance of a container.
func (w *podWorker) start(ctx context.Context, pod *corev1.Pod, c *corev1.Container, s *ctrState) {
	spec, err := w.containerSpec(pod, c, s)
	if err != nil {
		s.waitReason, s.waitMessage = "CreateContainerConfigError", err.Error()
		w.k.metrics.startErrors.WithLabelValues("CreateContainerConfigError").Inc()
		w.k.recorder.Eventf(pod, corev1.EventTypeWarning, "Failed", "Error: %v", err)
		w.retryStart(s, 10*time.Second)
		return
	}
	ctr, err := w.k.rt.Start(ctx, spec)
	var imgErr *ImageError
	switch {
	case errors.As(err, &imgErr):
		reason := imgErr.Reason
		if s.waitReason == "ErrImagePull" || s.waitReason == "ImagePullBackOff" {
			reason = "ImagePullBackOff"
		}
		s.waitReason, s.waitMessage = reason, imgErr.Message
		w.k.metrics.startErrors.WithLabelValues(reason).Inc()
		w.k.recorder.Eventf(pod, corev1.EventTypeWarning, "Failed", "Failed to pull image %q: %s", c.Image, imgErr.Message)
		w.retryStart(s, 10*time.Second)
		return
	case err != nil:
		s.waitReason, s.waitMessage = "RunContainerError", err.Error()
		w.k.metrics.startErrors.WithLabelValues("RunContainerError").Inc()
		w.k.recorder.Eventf(pod, corev1.EventTypeWarning, "Failed", "Error: %v", err)
		w.retryStart(s, restartDelay(max(s.crashes, 1)))
		s.crashes++
		return
	}
	s.cur, s.id, s.instances = ctr, ctr.ID(), s.instances+1
	if s.restartPending { // restartCount counts started restarts, as upstream
		s.restarts++
		s.restartPending = false
	}
	w.k.metrics.startedContainers.Inc()
	w.live.set(c.Name, ctr, w.k.rt.LogPath(pod.Namespace, pod.Name, string(pod.UID), c.Name, spec.RestartCount))
	s.waitReason, s.waitMessage = "", ""
	s.startupOK = c.StartupProbe == nil
	s.ready = c.ReadinessProbe == nil && !s.init
	go func() {
		<-ctr.Done()
		w.poke()
	}()
	w.k.recorder.Eventf(pod, corev1.EventTypeNormal, "Started", "Started container %s", c.Name)
	if c.Lifecycle != nil && c.Lifecycle.PostStart != nil {
		if err := w.runHook(ctx, pod, c, s, c.Lifecycle.PostStart, time.Minute); err != nil {
			w.k.recorder.Eventf(pod, corev1.EventTypeWarning, "FailedPostStartHook", "PostStartHook failed: %v", err)
			w.kill(s, c, pod, "FailedPostStartHook")
			return
		}
	}
	if !s.init {
		w.k.watchProbes(w, pod, c, s)
	}
}

func (w *podWorker) retryStart(s *ctrState, after time.Duration) {
	s.notBefore = w.k.clock.Now().Add(after)
	w.wakeAt(s.notBefore)
}

// kill ends a running instance on the kubelet's initiative (failed
// liveness probe or hook); its exit then counts as a crash.
func (w *podWorker) kill(s *ctrState, c *corev1.Container, pod *corev1.Pod, why string) {
	if !s.running() || s.stopping {
		return
	}
	s.stopping = true
	s.ready = false
	grace := podGrace(pod)
	if c.LivenessProbe != nil && c.LivenessProbe.TerminationGracePeriodSeconds != nil && why == "Unhealthy" {
		grace = time.Duration(*c.LivenessProbe.TerminationGracePeriodSeconds) * time.Second
	}
	w.k.recorder.Eventf(pod, corev1.EventTypeNormal, "Killing", "Stopping container %s (%s)", c.Name, why)
	cur := s.cur
	go func() {
		if err := w.k.rt.Stop(cur, grace); err != nil {
			w.k.log.Warn("stopping container", "pod", w.key(), "container", c.Name, "err", err)
		}
	}()
}

func podGrace(pod *corev1.Pod) time.Duration {
	if pod.Spec.TerminationGracePeriodSeconds != nil {
		return time.Duration(*pod.Spec.TerminationGracePeriodSeconds) * time.Second
	}
	return 30 * time.Second
}
