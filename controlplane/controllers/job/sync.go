package job

import (
	"context"
	"errors"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
)

// defaultBackoffLimit is spec.backoffLimit when unset, as upstream.
const defaultBackoffLimit = 6

// burst caps the pods created or deleted in one sync.
const burst = 500

// IsFinished reports whether the Job has a true Complete or Failed condition,
// and which.
func IsFinished(j *batchv1.Job) (batchv1.JobConditionType, bool) {
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return c.Type, true
		}
	}
	return "", false
}

func (c *Controller) sync(ctx context.Context, k string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(k)
	if err != nil {
		return nil
	}
	job, err := c.jobLister.Jobs(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.exp.Forget(k)
		return nil
	}
	if err != nil {
		return err
	}
	if job.DeletionTimestamp != nil {
		return nil
	}
	if _, done := IsFinished(job); done {
		return c.handleTTL(ctx, job)
	}
	sel, err := metav1.LabelSelectorAsSelector(job.Spec.Selector)
	if err != nil || sel.Empty() {
		return nil // invalid selector: nothing to do until the spec changes
	}
	needsManage := c.exp.Satisfied(k)
	all, err := c.podLister.Pods(ns).List(sel)
	if err != nil {
		return err
	}
	var active, succeededPods, failedPods []*corev1.Pod
	var restarts int32
	for _, p := range all {
		if ref := metav1.GetControllerOf(p); ref == nil || ref.UID != job.UID {
			continue
		}
		switch {
		case p.Status.Phase == corev1.PodSucceeded:
			succeededPods = append(succeededPods, p)
		case p.Status.Phase == corev1.PodFailed:
			failedPods = append(failedPods, p)
		case p.DeletionTimestamp == nil:
			active = append(active, p)
			if job.Spec.Template.Spec.RestartPolicy == corev1.RestartPolicyOnFailure {
				for _, s := range p.Status.ContainerStatuses {
					restarts += s.RestartCount
				}
			}
		}
	}

	now := c.clock.Now()
	st := job.Status.DeepCopy()
	st.Succeeded = max(st.Succeeded, int32(len(succeededPods)))
	st.Failed = max(st.Failed, int32(len(failedPods)))
	suspended := job.Spec.Suspend != nil && *job.Spec.Suspend
	if st.StartTime == nil && !suspended {
		t := metav1.NewTime(now)
		st.StartTime = &t
	}

	backoffLimit := int32(defaultBackoffLimit)
	if job.Spec.BackoffLimit != nil {
		backoffLimit = *job.Spec.BackoffLimit
	}
	parallelism := int32(1)
	if job.Spec.Parallelism != nil {
		parallelism = *job.Spec.Parallelism
	}

	var finish *batchv1.JobCondition // the condition to finish with, if any
	var extra []batchv1.JobCondition
	var deadline time.Duration // > 0: time left before activeDeadlineSeconds
	switch {
	case st.Failed+restarts > backoffLimit:
		finish = condition(batchv1.JobFailed, "BackoffLimitExceeded", "Job has reached the specified backoff limit", now)
		extra = append(extra, *condition(batchv1.JobFailureTarget, "BackoffLimitExceeded", "Job has reached the specified backoff limit", now))
	case job.Spec.ActiveDeadlineSeconds != nil && st.StartTime != nil && !suspended:
		end := st.StartTime.Add(time.Duration(*job.Spec.ActiveDeadlineSeconds) * time.Second)
		if !now.Before(end) {
			finish = condition(batchv1.JobFailed, "DeadlineExceeded", "Job was active longer than specified deadline", now)
			extra = append(extra, *condition(batchv1.JobFailureTarget, "DeadlineExceeded", "Job was active longer than specified deadline", now))
		} else {
			deadline = end.Sub(now)
		}
	}
	if finish == nil {
		if job.Spec.Completions != nil && st.Succeeded >= *job.Spec.Completions ||
			job.Spec.Completions == nil && st.Succeeded > 0 && len(active) == 0 {
			finish = condition(batchv1.JobComplete, "", "", now)
			extra = append(extra, *condition(batchv1.JobSuccessCriteriaMet, "CompletionsReached", "Reached expected number of succeeded pods", now))
		}
	}

	var manageErr error
	if finish != nil {
		// Finished: no pod keeps running.
		manageErr = c.deletePods(ctx, job, active)
		if manageErr == nil {
			active = nil
			for _, x := range extra {
				setCondition(st, x)
			}
			setCondition(st, *finish)
			if finish.Type == batchv1.JobComplete {
				t := metav1.NewTime(now)
				st.CompletionTime = &t
				c.events.Event(job, corev1.EventTypeNormal, "Completed", "Job completed")
			} else {
				c.events.Event(job, corev1.EventTypeWarning, finish.Reason, finish.Message)
			}
		}
	} else if needsManage {
		want := parallelism
		if suspended {
			want = 0
		} else if job.Spec.Completions != nil {
			want = min(want, *job.Spec.Completions-st.Succeeded)
		} else if st.Succeeded > 0 {
			want = 0 // some pod succeeded: let the others finish
		}
		var created []*corev1.Pod
		created, active, manageErr = c.manage(ctx, job, active, int(max(want, 0)))
		active = append(active, created...)
	}

	st.Active = int32(len(active))
	var ready int32
	for _, p := range active {
		if isReady(p) {
			ready++
		}
	}
	st.Ready = &ready
	if !apiequality.Semantic.DeepEqual(st, &job.Status) {
		upd := job.DeepCopy()
		upd.Status = *st
		updated, err := c.client.BatchV1().Jobs(ns).UpdateStatus(ctx, upd, metav1.UpdateOptions{})
		if err != nil {
			return errors.Join(manageErr, err)
		}
		job = updated
	}
	if manageErr != nil {
		return manageErr
	}
	if _, done := IsFinished(job); done {
		return c.handleTTL(ctx, job)
	}
	if deadline > 0 {
		c.enqueueAfter(k, deadline)
	}
	return nil
}

// manage creates or deletes pods so that want are active. It returns the
// pods created and the active pods left.
func (c *Controller) manage(ctx context.Context, job *batchv1.Job, active []*corev1.Pod, want int) ([]*corev1.Pod, []*corev1.Pod, error) {
	k := key(job)
	diff := want - len(active)
	switch {
	case diff > 0:
		n := min(diff, burst)
		c.exp.Expect(k, n, nil)
		var mu sync.Mutex
		var created []*corev1.Pod
		var errs []error
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				p, err := c.client.CoreV1().Pods(job.Namespace).Create(ctx, podFor(job), metav1.CreateOptions{})
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					c.exp.ObserveAdd(k, 1) // will never be seen
					c.events.Eventf(job, corev1.EventTypeWarning, "FailedCreate", "Error creating: %v", err)
					errs = append(errs, err)
					return
				}
				c.events.Eventf(job, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: %s", p.Name)
				created = append(created, p)
			})
		}
		wg.Wait()
		return created, active, errors.Join(errs...)
	case diff < 0:
		// Newest first, as they have done the least work.
		victims := append([]*corev1.Pod(nil), active...)
		sortNewestFirst(victims)
		victims = victims[:min(-diff, burst)]
		err := c.deletePods(ctx, job, victims)
		gone := map[types.UID]bool{}
		for _, p := range victims {
			gone[p.UID] = true
		}
		var left []*corev1.Pod
		for _, p := range active {
			if !gone[p.UID] {
				left = append(left, p)
			}
		}
		return nil, left, err
	}
	return nil, active, nil
}

func (c *Controller) deletePods(ctx context.Context, job *batchv1.Job, pods []*corev1.Pod) error {
	if len(pods) == 0 {
		return nil
	}
	k := key(job)
	uids := make([]types.UID, 0, len(pods))
	for _, p := range pods {
		uids = append(uids, p.UID)
	}
	c.exp.Expect(k, 0, uids)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, p := range pods {
		wg.Go(func() {
			err := c.client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{
				Preconditions: &metav1.Preconditions{UID: &p.UID},
			})
			if err == nil || apierrors.IsNotFound(err) {
				if err != nil {
					c.exp.ObserveDelete(k, p.UID)
				}
				c.events.Eventf(job, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: %s", p.Name)
				return
			}
			c.exp.ObserveDelete(k, p.UID)
			c.events.Eventf(job, corev1.EventTypeWarning, "FailedDelete", "Error deleting: %v", err)
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// handleTTL deletes a finished Job once ttlSecondsAfterFinished has passed,
// or schedules a sync for then.
func (c *Controller) handleTTL(ctx context.Context, job *batchv1.Job) error {
	if job.Spec.TTLSecondsAfterFinished == nil || job.DeletionTimestamp != nil {
		return nil
	}
	var finished time.Time
	if job.Status.CompletionTime != nil {
		finished = job.Status.CompletionTime.Time
	}
	for _, cond := range job.Status.Conditions {
		if (cond.Type == batchv1.JobComplete || cond.Type == batchv1.JobFailed) && cond.Status == corev1.ConditionTrue && finished.IsZero() {
			finished = cond.LastTransitionTime.Time
		}
	}
	expire := finished.Add(time.Duration(*job.Spec.TTLSecondsAfterFinished) * time.Second)
	if left := expire.Sub(c.clock.Now()); left > 0 {
		c.enqueueAfter(key(job), left)
		return nil
	}
	bg := metav1.DeletePropagationBackground
	err := c.client.BatchV1().Jobs(job.Namespace).Delete(ctx, job.Name, metav1.DeleteOptions{
		PropagationPolicy: &bg,
		Preconditions:     &metav1.Preconditions{UID: &job.UID},
	})
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	c.log.Info("deleted finished job after its TTL", "job", key(job))
	return nil
}

func condition(t batchv1.JobConditionType, reason, msg string, now time.Time) *batchv1.JobCondition {
	return &batchv1.JobCondition{
		Type: t, Status: corev1.ConditionTrue, Reason: reason, Message: msg,
		LastProbeTime: metav1.NewTime(now), LastTransitionTime: metav1.NewTime(now),
	}
}

// setCondition adds cond, or replaces a condition of the same type whose
// status differs.
func setCondition(st *batchv1.JobStatus, cond batchv1.JobCondition) {
	for i := range st.Conditions {
		if st.Conditions[i].Type == cond.Type {
			if st.Conditions[i].Status != cond.Status {
				st.Conditions[i] = cond
			}
			return
		}
	}
	st.Conditions = append(st.Conditions, cond)
}

// podFor builds a pod from the Job's template, owned by it as controller.
func podFor(job *batchv1.Job) *corev1.Pod {
	t := true
	tpl := job.Spec.Template.DeepCopy()
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: job.Name + "-",
			Namespace:    job.Namespace,
			Labels:       tpl.Labels,
			Annotations:  tpl.Annotations,
			Finalizers:   tpl.Finalizers,
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "batch/v1", Kind: "Job", Name: job.Name, UID: job.UID,
				Controller: &t, BlockOwnerDeletion: &t,
			}},
		},
		Spec: tpl.Spec,
	}
}

func isReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func sortNewestFirst(pods []*corev1.Pod) {
	for i := 1; i < len(pods); i++ {
		for j := i; j > 0 && newer(pods[j], pods[j-1]); j-- {
			pods[j], pods[j-1] = pods[j-1], pods[j]
		}
	}
}

func newer(a, b *corev1.Pod) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return b.CreationTimestamp.Before(&a.CreationTimestamp)
	}
	return a.Name > b.Name
}
