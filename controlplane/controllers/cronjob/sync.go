package cronjob

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"rudder/controlplane/registry"
)

// ScheduledTimestampAnnotation is put on each Job with the schedule time it
// was created for (RFC 3339), as upstream.
const ScheduledTimestampAnnotation = "batch.kubernetes.io/cronjob-scheduled-timestamp"

// Default history limits, as upstream.
const (
	defaultSuccessfulHistory = 3
	defaultFailedHistory     = 1
)

// maxMissed bounds the schedule times walked through in one sync; beyond it
// the controller reports MissSchedule and starts the most recent one found.
const maxMissed = 100000

// JobName is the name of the Job cj creates for schedule time t.
func JobName(cj *batchv1.CronJob, t time.Time) string {
	return fmt.Sprintf("%s-%d", cj.Name, t.Unix()/60)
}

func finished(j *batchv1.Job) (batchv1.JobConditionType, bool) {
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
	cj, err := c.cjLister.CronJobs(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	all, err := c.jobLister.Jobs(ns).List(labels.Everything())
	if err != nil {
		return err
	}
	var owned []*batchv1.Job
	for _, j := range all {
		if ref := metav1.GetControllerOf(j); ref != nil && ref.UID == cj.UID {
			owned = append(owned, j)
		}
	}

	st := cj.Status.DeepCopy()
	var errs []error
	now := c.clock.Now()

	// Active refs: the owned unfinished Jobs; and the latest success.
	byUID := map[types.UID]*batchv1.Job{}
	for _, j := range owned {
		byUID[j.UID] = j
	}
	var active []corev1.ObjectReference
	for _, ref := range st.Active {
		j, ok := byUID[ref.UID]
		if !ok {
			continue // gone
		}
		if ty, done := finished(j); done {
			if ty == batchv1.JobComplete {
				c.events.Eventf(cj, corev1.EventTypeNormal, "SawCompletedJob", "Saw completed job: %s, condition: %s", j.Name, ty)
			}
			continue
		}
		active = append(active, ref)
	}
	for _, j := range owned {
		if _, done := finished(j); done || j.DeletionTimestamp != nil || inRefs(active, j.UID) {
			continue
		}
		active = append(active, jobRef(j))
	}
	st.Active = active
	for _, j := range owned {
		if ty, done := finished(j); done && ty == batchv1.JobComplete && j.Status.CompletionTime != nil {
			if st.LastSuccessfulTime == nil || st.LastSuccessfulTime.Before(j.Status.CompletionTime) {
				t := *j.Status.CompletionTime
				st.LastSuccessfulTime = &t
			}
		}
	}

	if cj.DeletionTimestamp == nil {
		errs = append(errs, c.cleanupHistory(ctx, cj, owned))
	}

	var requeue time.Time
	if cj.DeletionTimestamp == nil && (cj.Spec.Suspend == nil || !*cj.Spec.Suspend) {
		d, err := c.schedule(ctx, cj, st, owned, now)
		requeue = d
		errs = append(errs, err)
	}

	if !apiequality.Semantic.DeepEqual(st, &cj.Status) {
		upd := cj.DeepCopy()
		upd.Status = *st
		if _, err := c.client.BatchV1().CronJobs(ns).UpdateStatus(ctx, upd, metav1.UpdateOptions{}); err != nil {
			errs = append(errs, err)
		}
	}
	if !requeue.IsZero() {
		c.enqueueAt(k, requeue)
	}
	return errors.Join(errs...)
}

// schedule starts the Job for the most recent due schedule time, if any and
// if concurrencyPolicy allows, updating st. It returns the next schedule
// time (zero: none).
func (c *Controller) schedule(ctx context.Context, cj *batchv1.CronJob, st *batchv1.CronJobStatus, owned []*batchv1.Job, now time.Time) (time.Time, error) {
	sched, err := registry.ParseCronSchedule(cj.Spec.Schedule)
	if err != nil {
		c.events.Eventf(cj, corev1.EventTypeWarning, "InvalidSchedule", "invalid schedule %q: %v", cj.Spec.Schedule, err)
		return time.Time{}, nil // nothing to do until the spec changes
	}
	loc := time.Local
	if cj.Spec.TimeZone != nil && *cj.Spec.TimeZone != "" {
		loc, err = time.LoadLocation(*cj.Spec.TimeZone)
		if err != nil {
			c.events.Eventf(cj, corev1.EventTypeWarning, "UnknownTimeZone", "invalid timeZone %q: %v", *cj.Spec.TimeZone, err)
			return time.Time{}, nil
		}
	}
	now = now.In(loc)
	earliest := cj.CreationTimestamp.Time
	if st.LastScheduleTime != nil {
		earliest = st.LastScheduleTime.Time
	}
	if sds := cj.Spec.StartingDeadlineSeconds; sds != nil {
		if e := now.Add(-time.Duration(*sds) * time.Second); e.After(earliest) {
			earliest = e
		}
	}
	var due time.Time
	n := 0
	for t := sched.Next(earliest.In(loc)); !t.IsZero() && !t.After(now); t = sched.Next(t) {
		due = t
		if n++; n > maxMissed {
			c.events.Eventf(cj, corev1.EventTypeWarning, "TooManyMissedTimes", "too many missed start times; check clock skew")
			break
		}
	}
	requeue := sched.Next(now)
	if due.IsZero() {
		return requeue, nil
	}
	if sds := cj.Spec.StartingDeadlineSeconds; sds != nil && due.Add(time.Duration(*sds)*time.Second).Before(now) {
		c.events.Eventf(cj, corev1.EventTypeWarning, "MissSchedule", "Missed scheduled time to start a job: %s", due.UTC().Format(time.RFC3339))
		return requeue, nil
	}
	name := JobName(cj, due)
	for _, j := range owned {
		if j.Name == name { // already started (our status write may be lost)
			t := metav1.NewTime(due)
			st.LastScheduleTime = &t
			return requeue, nil
		}
	}
	switch cj.Spec.ConcurrencyPolicy {
	case batchv1.ForbidConcurrent:
		if len(st.Active) > 0 {
			// As upstream, lastScheduleTime stays: the missed time is
			// started once the running Job ends, if still within
			// startingDeadlineSeconds.
			c.events.Eventf(cj, corev1.EventTypeNormal, "JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid")
			return requeue, nil
		}
	case batchv1.ReplaceConcurrent:
		var keep []corev1.ObjectReference
		var errs []error
		for _, ref := range st.Active {
			bg := metav1.DeletePropagationBackground
			err := c.client.BatchV1().Jobs(ref.Namespace).Delete(ctx, ref.Name, metav1.DeleteOptions{
				PropagationPolicy: &bg, Preconditions: &metav1.Preconditions{UID: &ref.UID},
			})
			if err != nil && !apierrors.IsNotFound(err) {
				keep = append(keep, ref)
				errs = append(errs, err)
				continue
			}
			c.events.Eventf(cj, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted job %s", ref.Name)
		}
		st.Active = keep
		if len(errs) > 0 {
			return requeue, errors.Join(errs...)
		}
	}
	job := jobFor(cj, name, due)
	created, err := c.client.BatchV1().Jobs(cj.Namespace).Create(ctx, job, metav1.CreateOptions{})
	switch {
	case apierrors.IsAlreadyExists(err):
		existing, gerr := c.client.BatchV1().Jobs(cj.Namespace).Get(ctx, name, metav1.GetOptions{})
		if gerr != nil {
			return requeue, gerr
		}
		if ref := metav1.GetControllerOf(existing); ref == nil || ref.UID != cj.UID {
			return requeue, fmt.Errorf("job %s/%s exists and is not owned by cronjob %s", cj.Namespace, name, cj.Name)
		}
		created = existing
	case err != nil:
		c.events.Eventf(cj, corev1.EventTypeWarning, "FailedCreate", "Error creating job: %v", err)
		return requeue, err
	default:
		c.events.Eventf(cj, corev1.EventTypeNormal, "SuccessfulCreate", "Created job %s", name)
	}
	if _, done := finished(created); !done && !inRefs(st.Active, created.UID) {
		st.Active = append(st.Active, jobRef(created))
	}
	t := metav1.NewTime(due)
	st.LastScheduleTime = &t
	return requeue, nil
}

// cleanupHistory deletes the oldest finished Jobs beyond the history limits.
func (c *Controller) cleanupHistory(ctx context.Context, cj *batchv1.CronJob, owned []*batchv1.Job) error {
	var ok, failed []*batchv1.Job
	for _, j := range owned {
		if j.DeletionTimestamp != nil {
			continue
		}
		switch ty, _ := finished(j); ty {
		case batchv1.JobComplete:
			ok = append(ok, j)
		case batchv1.JobFailed:
			failed = append(failed, j)
		}
	}
	okLimit, failLimit := int32(defaultSuccessfulHistory), int32(defaultFailedHistory)
	if cj.Spec.SuccessfulJobsHistoryLimit != nil {
		okLimit = *cj.Spec.SuccessfulJobsHistoryLimit
	}
	if cj.Spec.FailedJobsHistoryLimit != nil {
		failLimit = *cj.Spec.FailedJobsHistoryLimit
	}
	var errs []error
	for _, set := range []struct {
		jobs  []*batchv1.Job
		limit int32
	}{{ok, okLimit}, {failed, failLimit}} {
		if int32(len(set.jobs)) <= set.limit {
			continue
		}
		sort.Slice(set.jobs, func(a, b int) bool { return olderThan(set.jobs[a], set.jobs[b]) })
		for _, j := range set.jobs[:len(set.jobs)-int(max(set.limit, 0))] {
			bg := metav1.DeletePropagationBackground
			err := c.client.BatchV1().Jobs(j.Namespace).Delete(ctx, j.Name, metav1.DeleteOptions{
				PropagationPolicy: &bg, Preconditions: &metav1.Preconditions{UID: &j.UID},
			})
			if err != nil && !apierrors.IsNotFound(err) {
				errs = append(errs, err)
				continue
			}
			c.events.Eventf(cj, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted job %s", j.Name)
		}
	}
	return errors.Join(errs...)
}

// scheduledTime is the schedule time a Job was created for, else its
// creation time.
func scheduledTime(j *batchv1.Job) time.Time {
	if s, ok := j.Annotations[ScheduledTimestampAnnotation]; ok {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t
		}
	}
	return j.CreationTimestamp.Time
}

func olderThan(a, b *batchv1.Job) bool {
	ta, tb := scheduledTime(a), scheduledTime(b)
	if !ta.Equal(tb) {
		return ta.Before(tb)
	}
	return a.Name < b.Name
}

func inRefs(refs []corev1.ObjectReference, uid types.UID) bool {
	for _, r := range refs {
		if r.UID == uid {
			return true
		}
	}
	return false
}

func jobRef(j *batchv1.Job) corev1.ObjectReference {
	return corev1.ObjectReference{
		APIVersion: "batch/v1", Kind: "Job", Namespace: j.Namespace, Name: j.Name,
		UID: j.UID, ResourceVersion: j.ResourceVersion,
	}
}

// jobFor builds the Job for schedule time t from cj's jobTemplate.
func jobFor(cj *batchv1.CronJob, name string, t time.Time) *batchv1.Job {
	tpl := cj.Spec.JobTemplate.DeepCopy()
	ann := map[string]string{}
	for k, v := range tpl.Annotations {
		ann[k] = v
	}
	ann[ScheduledTimestampAnnotation] = t.Format(time.RFC3339)
	yes := true
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Namespace:   cj.Namespace,
			Labels:      tpl.Labels,
			Annotations: ann,
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "batch/v1", Kind: "CronJob", Name: cj.Name, UID: cj.UID,
				Controller: &yes, BlockOwnerDeletion: &yes,
			}},
		},
		Spec: tpl.Spec,
	}
}
