package kubelet

import (
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Backoff bounds of CrashLoopBackOff, as upstream.
const (
	backoffInitial = 10 * time.Second
	backoffMax     = 5 * time.Minute
)

// ctrState is what the kubelet knows about one container of a pod across
// its instances. Only the pod's worker touches it.
type ctrState struct {
	name     string
	init     bool
	cur      Container // the running (or just exited) instance; nil before the first start
	id       string
	restarts int // restartCount: instances started after the first
	started  bool
	ready    bool
	// startupOK is true once the startup probe (if any) has succeeded.
	startupOK bool
	last      *termination // the previous instance's end (lastState)
	// waiting is why the container is not running (ContainerCreating,
	// CrashLoopBackOff, ErrImagePull, CreateContainerConfigError, …).
	waitReason, waitMessage string
	// notBefore is when the next start may happen (CrashLoopBackOff).
	notBefore time.Time
	// instances counts starts, for log file names and backoff.
	instances int
	// stopping is set while the kubelet itself is ending the instance
	// (liveness failure, pod deletion), so its exit is not a crash.
	stopping bool
	// restartPending is set when an ended instance is to be followed by
	// a new one; restarts grows when that one starts.
	restartPending bool
	// crashes counts consecutive restarts for CrashLoopBackOff; an
	// instance that ran for 10 min resets it.
	crashes int
}

// termination is how one instance ended.
type termination struct {
	id                    string
	exitCode              int
	signal                string
	reason, message       string
	startedAt, finishedAt time.Time
}

// running reports whether the current instance still runs.
func (c *ctrState) running() bool {
	if c.cur == nil {
		return false
	}
	select {
	case <-c.cur.Done():
		return false
	default:
		return true
	}
}

// exited is the termination of the current instance once it has ended.
func (c *ctrState) exited() *termination {
	if c.cur == nil || c.running() {
		return nil
	}
	e := c.cur.Exit()
	reason := e.Reason
	if reason == "" {
		reason = "Completed"
		if e.Code != 0 {
			reason = "Error"
		}
	}
	return &termination{id: c.cur.ID(), exitCode: e.Code, signal: e.Signal, reason: reason,
		message: e.Message, startedAt: c.cur.StartedAt(), finishedAt: e.FinishedAt}
}

// shouldRestart applies the restart policy to an ended instance.
func shouldRestart(policy corev1.RestartPolicy, t *termination) bool {
	switch policy {
	case corev1.RestartPolicyNever:
		return false
	case corev1.RestartPolicyOnFailure:
		return t.exitCode != 0
	default:
		return true
	}
}

// restartDelay is upstream's CrashLoopBackOff: the first restart is
// immediate, then 10 s doubling to 5 min, counted from the end of the last
// instance (crashes is the number of restarts already behind it).
func restartDelay(crashes int) time.Duration {
	if crashes <= 0 {
		return 0
	}
	d := backoffInitial
	for i := 1; i < crashes && d < backoffMax; i++ {
		d *= 2
	}
	return min(d, backoffMax)
}

// ranLongEnough reports whether an instance ran long enough to reset the
// backoff.
func ranLongEnough(t *termination) bool {
	return t.finishedAt.Sub(t.startedAt) >= 2*backoffMax
}
