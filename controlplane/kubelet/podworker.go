package kubelet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"rudder/controlplane/kubelet/prober"
)

// resyncPeriod bounds how long a pod goes without a sync.
const resyncPeriod = 10 * time.Second

// podWorker drives one pod towards its spec. Only its goroutine touches
// its fields, except wake.
type podWorker struct {
	k        *Kubelet
	uid      types.UID
	ns, name string
	wake     chan struct{}

	pod        *corev1.Pod
	init, ctrs []*ctrState
	podIPs     []string
	sandboxOK  bool
	sandboxErr int // consecutive sandbox failures (backoff)
	prepared   bool
	files      podFiles
	initDone   bool
	failed     string // why the pod failed for good (restartPolicy Never)
	startTime  time.Time
	adopted    bool
	allStarted bool // pod start latency observed
	sent       *corev1.PodStatus
	sentRV     string
	next       time.Time                  // earliest pending timer (backoff, probes)
	live       liveIndex                  // read by the HTTPS API
	view       atomic.Pointer[corev1.Pod] // read by the probe workers

	probeMu    sync.Mutex
	probeQueue []prober.Update
}

func newPodWorker(k *Kubelet, pod *corev1.Pod) *podWorker {
	w := &podWorker{k: k, uid: pod.UID, ns: pod.Namespace, name: pod.Name, wake: make(chan struct{}, 1), pod: pod}
	for _, c := range pod.Spec.InitContainers {
		w.init = append(w.init, &ctrState{name: c.Name, init: true})
	}
	for _, c := range pod.Spec.Containers {
		w.ctrs = append(w.ctrs, &ctrState{name: c.Name})
	}
	return w
}

// poke asks the worker to sync soon; it never blocks.
func (w *podWorker) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// wakeAt asks for a sync no later than t.
func (w *podWorker) wakeAt(t time.Time) {
	if w.next.IsZero() || t.Before(w.next) {
		w.next = t
	}
}

// run syncs the pod until it is gone (true) or the kubelet stops (false).
func (w *podWorker) run() bool {
	ctx := w.k.ctx
	timer := w.k.clock.NewTimer(resyncPeriod)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-w.wake:
		case <-timer.C():
		}
		w.next = time.Time{}
		pod := w.k.pod(w.ns, w.name, w.uid)
		began := time.Now()
		done := w.sync(ctx, pod)
		w.k.metrics.podWorker.Observe(time.Since(began).Seconds())
		if done {
			return true
		}
		wait := resyncPeriod
		if !w.next.IsZero() {
			wait = max(min(w.next.Sub(w.k.clock.Now()), resyncPeriod), 10*time.Millisecond)
		}
		if !timer.Stop() {
			select {
			case <-timer.C():
			default:
			}
		}
		timer.Reset(wait)
	}
}

// sync is one pass over the pod; it reports whether the worker is done.
func (w *podWorker) sync(ctx context.Context, pod *corev1.Pod) bool {
	if pod == nil { // gone from the API: stop at once and clean up
		w.terminate(ctx, time.Second)
		w.cleanup(ctx)
		return true
	}
	w.pod = pod
	if !w.adopted {
		w.adopt()
	}
	if pod.DeletionTimestamp != nil {
		return w.finish(ctx, pod)
	}
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		w.stopAll(ctx)
		return false
	}
	w.applyProbes(pod)
	if w.ensureSandbox(ctx, pod) && w.prepare(ctx, pod) {
		if w.syncInit(ctx, pod) {
			w.syncContainers(ctx, pod)
		}
	}
	w.updateStatus(ctx)
	w.publishView()
	w.observeStart(pod)
	return false
}

// adopt takes over from an earlier kubelet: its processes cannot be
// waited for, so they are ended and the containers start again, keeping
// the restart counts the API holds.
func (w *podWorker) adopt() {
	w.adopted = true
	if err := w.k.rt.KillPod(string(w.uid)); err != nil {
		w.k.log.Warn("ending leftover processes", "pod", w.key(), "err", err)
	}
	adoptStatuses(w.ctrs, w.pod.Status.ContainerStatuses)
	adoptStatuses(w.init, w.pod.Status.InitContainerStatuses)
	for _, s := range append(append([]*ctrState{}, w.init...), w.ctrs...) {
		if s.cur != nil { // ended before the restart: its logs stay readable
			w.live.set(s.name, s.cur, w.k.rt.LogPath(w.ns, w.name, string(w.uid), s.name, s.restarts))
		}
	}
	if w.pod.Status.StartTime != nil {
		w.startTime = w.pod.Status.StartTime.Time
	}
}

// adoptStatuses carries what the API knows of containers into a new
// worker: restart counts, and instances that had already ended (a
// completed init container, a container that exited under Never) are
// kept as ended rather than run again. Running instances end with the
// old kubelet's processes: their next instance counts as a restart.
func adoptStatuses(states []*ctrState, statuses []corev1.ContainerStatus) {
	for _, cs := range statuses {
		for _, s := range states {
			if s.name != cs.Name {
				continue
			}
			// Instance number restartCount ran (or runs): the next one
			// gets the next log file.
			s.restarts, s.instances = int(cs.RestartCount), int(cs.RestartCount)+1
			switch t := cs.State.Terminated; {
			case t != nil:
				s.cur = endedContainer{id: strings.TrimPrefix(t.ContainerID, "rudder://"), started: t.StartedAt.Time,
					exit: ExitStatus{Code: int(t.ExitCode), Reason: t.Reason, Message: t.Message, FinishedAt: t.FinishedAt.Time}}
				s.id, s.startupOK = s.cur.ID(), true
			case cs.State.Running != nil:
				s.restartPending = true
			}
		}
	}
}

// endedContainer is an instance an earlier kubelet ran to its end.
type endedContainer struct {
	id      string
	started time.Time
	exit    ExitStatus
}

func (c endedContainer) ID() string           { return c.id }
func (c endedContainer) PID() int             { return 0 }
func (c endedContainer) StartedAt() time.Time { return c.started }
func (c endedContainer) Done() <-chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}
func (c endedContainer) Exit() ExitStatus { return c.exit }

func (w *podWorker) key() string { return w.ns + "/" + w.name }

// ensureSandbox gives the pod its network namespace and addresses.
func (w *podWorker) ensureSandbox(ctx context.Context, pod *corev1.Pod) bool {
	if w.sandboxOK {
		return true
	}
	if pod.Spec.HostNetwork || w.k.net == nil {
		w.podIPs = w.k.cfg.NodeIPs
	} else {
		ips, err := w.k.net.Setup(ctx, pod)
		if err != nil {
			w.sandboxErr++
			w.k.recorder.Eventf(pod, corev1.EventTypeWarning, "FailedCreatePodSandBox", "Failed to create pod sandbox: %v", err)
			w.k.log.Warn("pod network setup failed", "pod", w.key(), "err", err)
			w.wakeAt(w.k.clock.Now().Add(min(time.Duration(w.sandboxErr)*time.Second, 30*time.Second)))
			return false
		}
		w.podIPs = ips
		w.live.mu.Lock()
		w.live.netns = w.k.net.NetNSPath(pod)
		w.live.mu.Unlock()
	}
	w.sandboxOK, w.sandboxErr = true, 0
	if w.startTime.IsZero() {
		w.startTime = w.k.clock.Now()
	}
	return true
}

// podDir is where the pod's volumes and generated files live.
func (w *podWorker) podDir() string {
	return filepath.Join(w.k.cfg.RootDir, "pods", string(w.uid))
}

// finish ends a pod being deleted: containers stop within the grace
// period, the network and files go, and the API object is removed.
func (w *podWorker) finish(ctx context.Context, pod *corev1.Pod) bool {
	grace := 30 * time.Second
	if pod.DeletionGracePeriodSeconds != nil {
		grace = time.Duration(*pod.DeletionGracePeriodSeconds) * time.Second
	}
	w.terminate(ctx, grace)
	w.cleanup(ctx)
	err := w.k.client.CoreV1().Pods(w.ns).Delete(ctx, w.name, metav1.DeleteOptions{
		GracePeriodSeconds: ptr.To(int64(0)), Preconditions: &metav1.Preconditions{UID: &w.uid}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		w.k.log.Warn("deleting pod", "pod", w.key(), "err", err)
		w.wakeAt(w.k.clock.Now().Add(time.Second))
		return false
	}
	return true
}

// stopAll stops a pod that reached a terminal phase and frees its network.
func (w *podWorker) stopAll(ctx context.Context) {
	w.terminate(ctx, 0)
	if w.sandboxOK && !w.pod.Spec.HostNetwork && w.k.net != nil {
		if err := w.k.net.Teardown(ctx, w.pod); err != nil {
			w.k.log.Warn("pod network teardown", "pod", w.key(), "err", err)
		}
		w.sandboxOK = false
	}
}

// cleanup removes what the pod had on the node.
func (w *podWorker) cleanup(ctx context.Context) {
	if err := w.k.rt.KillPod(string(w.uid)); err != nil {
		w.k.log.Warn("ending pod processes", "pod", w.key(), "err", err)
	}
	if w.k.net != nil && (w.pod == nil || !w.pod.Spec.HostNetwork) {
		if err := w.k.net.Teardown(ctx, w.pod); err != nil {
			w.k.log.Warn("pod network teardown", "pod", w.key(), "err", err)
		}
	}
	w.k.forgetProbes(w.uid)
	w.teardownFiles()
	if err := os.RemoveAll(w.podDir()); err != nil {
		w.k.log.Warn("removing pod dir", "pod", w.key(), "err", err)
	}
}

// updateStatus writes the pod status when it differs from what the API
// holds (or, until the informer has seen the kubelet's last write, from
// what the kubelet wrote), so changes by others (the node lifecycle
// controller marking pods not ready) are corrected too.
func (w *podWorker) updateStatus(ctx context.Context) {
	st := normalize(podStatus(w.observe()))
	base := w.pod.Status
	if w.sent != nil && olderRV(w.pod.ResourceVersion, w.sentRV) {
		base = *w.sent
	}
	if equality.Semantic.DeepEqual(base, st) {
		return
	}
	body, err := json.Marshal(map[string]any{"status": st})
	var out *corev1.Pod
	if err == nil {
		out, err = w.k.client.CoreV1().Pods(w.ns).Patch(ctx, w.name, types.MergePatchType, body, metav1.PatchOptions{}, "status")
	}
	if err != nil {
		if !apierrors.IsNotFound(err) && !errors.Is(err, context.Canceled) {
			w.k.log.Warn("pod status update failed", "pod", w.key(), "err", fmt.Errorf("patch status: %w", err))
		}
		w.wakeAt(w.k.clock.Now().Add(time.Second))
		return
	}
	w.sent, w.sentRV = &st, out.ResourceVersion
}

// observe gathers what the pod's status is computed from.
func (w *podWorker) observe() observed {
	return observed{pod: w.pod, hostIPs: w.k.cfg.NodeIPs, podIPs: w.podIPs, sandboxOK: w.sandboxOK,
		initDone: w.initDone, init: w.init, ctrs: w.ctrs, startTime: w.startTime, failMessage: w.failed, now: w.k.clock.Now()}
}

// normalize gives a status the precision it has after a trip through the
// API (times in seconds), so it compares equal to what the API returns.
func normalize(st corev1.PodStatus) corev1.PodStatus {
	b, err := json.Marshal(st)
	if err != nil {
		return st
	}
	var out corev1.PodStatus
	if json.Unmarshal(b, &out) != nil {
		return st
	}
	return out
}

// olderRV reports whether resource version a is older than b (both are
// the store's revisions; unparsable ones count as not older).
func olderRV(a, b string) bool {
	x, err1 := strconv.ParseUint(a, 10, 64)
	y, err2 := strconv.ParseUint(b, 10, 64)
	return err1 == nil && err2 == nil && x < y
}

// observeStart records the pod's start latency once all its containers
// run for the first time.
func (w *podWorker) observeStart(pod *corev1.Pod) {
	if w.allStarted || !w.initDone {
		return
	}
	for _, s := range w.ctrs {
		if !s.running() {
			return
		}
	}
	w.allStarted = true
	if !w.adopted || len(pod.Status.ContainerStatuses) == 0 || w.sent != nil {
		w.k.metrics.podStart.Observe(w.k.clock.Since(pod.CreationTimestamp.Time).Seconds())
	}
}
