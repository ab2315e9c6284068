package deployment

import (
	"context"
	"fmt"
	"math"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// calculateStatus derives d's status from its ReplicaSets, keeping its
// conditions and setting Available.
func calculateStatus(d *appsv1.Deployment, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) appsv1.DeploymentStatus {
	available := sumStatus(all, func(s *appsv1.ReplicaSetStatus) int32 { return s.AvailableReplicas })
	st := appsv1.DeploymentStatus{
		ObservedGeneration:  d.Generation,
		Replicas:            sumStatus(all, func(s *appsv1.ReplicaSetStatus) int32 { return s.Replicas }),
		ReadyReplicas:       sumStatus(all, func(s *appsv1.ReplicaSetStatus) int32 { return s.ReadyReplicas }),
		AvailableReplicas:   available,
		UnavailableReplicas: max(sumSpec(all)-available, 0),
		CollisionCount:      d.Status.CollisionCount,
		Conditions:          append([]appsv1.DeploymentCondition(nil), d.Status.Conditions...),
	}
	if newRS != nil {
		st.UpdatedReplicas = newRS.Status.Replicas
	}
	return st
}

// setAvailable sets the Available condition from st's counts.
func (c *Controller) setAvailable(d *appsv1.Deployment, st *appsv1.DeploymentStatus) {
	maxUnavail := int32(0)
	if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType && replicas(d.Spec.Replicas) > 0 {
		_, maxUnavail = surgeAndUnavailable(d)
	}
	if st.AvailableReplicas >= replicas(d.Spec.Replicas)-maxUnavail {
		c.setCondition(st, appsv1.DeploymentAvailable, corev1.ConditionTrue, ReasonMinimumAvailable, "Deployment has minimum availability.")
	} else {
		c.setCondition(st, appsv1.DeploymentAvailable, corev1.ConditionFalse, ReasonMinimumUnavailable, "Deployment does not have minimum availability.")
	}
}

// complete reports whether every replica is updated and available and no
// old one is left.
func complete(d *appsv1.Deployment, st *appsv1.DeploymentStatus) bool {
	want := replicas(d.Spec.Replicas)
	return st.UpdatedReplicas == want && st.Replicas == want && st.AvailableReplicas == want &&
		st.ObservedGeneration >= d.Generation
}

// progressing reports whether st moved forward from d's recorded status.
func progressing(d *appsv1.Deployment, st *appsv1.DeploymentStatus) bool {
	old := d.Status
	return st.UpdatedReplicas > old.UpdatedReplicas ||
		(old.Replicas-old.UpdatedReplicas) > (st.Replicas-st.UpdatedReplicas) ||
		st.ReadyReplicas > old.ReadyReplicas ||
		st.AvailableReplicas > old.AvailableReplicas
}

func hasProgressDeadline(d *appsv1.Deployment) bool {
	return d.Spec.ProgressDeadlineSeconds != nil && *d.Spec.ProgressDeadlineSeconds != math.MaxInt32
}

func (c *Controller) timedOut(d *appsv1.Deployment, st *appsv1.DeploymentStatus) bool {
	if !hasProgressDeadline(d) {
		return false
	}
	cond := condition(st, appsv1.DeploymentProgressing)
	if cond == nil || cond.Reason == ReasonNewRSAvailable {
		return false
	}
	if cond.Reason == ReasonTimedOut {
		return true
	}
	deadline := time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second
	return cond.LastUpdateTime.Add(deadline).Before(c.clock.Now())
}

// syncRolloutStatus writes d's status, moving the Progressing condition
// through ReplicaSetUpdated, NewReplicaSetAvailable and
// ProgressDeadlineExceeded as upstream does.
func (c *Controller) syncRolloutStatus(ctx context.Context, d *appsv1.Deployment, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) error {
	st := calculateStatus(d, all, newRS)
	c.setAvailable(d, &st)
	if !hasProgressDeadline(d) {
		removeCondition(&st, appsv1.DeploymentProgressing)
	}
	cur := condition(&st, appsv1.DeploymentProgressing)
	done := st.Replicas == st.UpdatedReplicas && cur != nil && cur.Reason == ReasonNewRSAvailable
	if hasProgressDeadline(d) && !done {
		name := d.Name
		if newRS != nil {
			name = newRS.Name
		}
		switch {
		case complete(d, &st):
			c.setCondition(&st, appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonNewRSAvailable,
				fmt.Sprintf("ReplicaSet %q has successfully progressed.", name))
		case progressing(d, &st):
			// Refresh lastUpdateTime on every step, which is what the
			// deadline is measured from.
			msg := fmt.Sprintf("ReplicaSet %q is progressing.", name)
			now := metav1.NewTime(c.clock.Now())
			cond := appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue,
				Reason: ReasonRSUpdated, Message: msg, LastUpdateTime: now, LastTransitionTime: now}
			if cur != nil && cur.Status == corev1.ConditionTrue {
				cond.LastTransitionTime = cur.LastTransitionTime
			}
			removeCondition(&st, appsv1.DeploymentProgressing)
			st.Conditions = append(st.Conditions, cond)
		case c.timedOut(d, &st):
			c.setCondition(&st, appsv1.DeploymentProgressing, corev1.ConditionFalse, ReasonTimedOut,
				fmt.Sprintf("ReplicaSet %q has timed out progressing.", name))
		}
	}
	if f := replicaFailure(newRS); f != nil {
		c.setCondition(&st, appsv1.DeploymentReplicaFailure, f.Status, f.Reason, f.Message)
	} else {
		removeCondition(&st, appsv1.DeploymentReplicaFailure)
	}
	if err := c.writeStatus(ctx, d, st); err != nil {
		return err
	}
	c.requeueIfStuck(d, &st)
	return nil
}

// syncStatusOnly writes the counts and Available, leaving Progressing as is
// (paused or deleted Deployments make no progress to judge).
func (c *Controller) syncStatusOnly(ctx context.Context, d *appsv1.Deployment, all []*appsv1.ReplicaSet) error {
	var newRS *appsv1.ReplicaSet
	for _, rs := range all {
		if equalIgnoreHash(&rs.Spec.Template, &d.Spec.Template) {
			newRS = rs
			break
		}
	}
	st := calculateStatus(d, all, newRS)
	c.setAvailable(d, &st)
	return c.writeStatus(ctx, d, st)
}

// checkPaused records pausing and resuming in the Progressing condition, so
// that the deadline is not counted while paused.
func (c *Controller) checkPaused(ctx context.Context, d *appsv1.Deployment) (*appsv1.Deployment, error) {
	if !hasProgressDeadline(d) {
		return d, nil
	}
	cond := condition(&d.Status, appsv1.DeploymentProgressing)
	if cond != nil && cond.Reason == ReasonTimedOut {
		return d, nil
	}
	pausedCond := cond != nil && cond.Reason == ReasonPaused
	switch {
	case d.Spec.Paused && !pausedCond:
		c.setCondition(&d.Status, appsv1.DeploymentProgressing, corev1.ConditionUnknown, ReasonPaused, "Deployment is paused")
	case !d.Spec.Paused && pausedCond:
		c.setCondition(&d.Status, appsv1.DeploymentProgressing, corev1.ConditionUnknown, ReasonResumed, "Deployment is resumed")
	default:
		return d, nil
	}
	updated, err := c.client.AppsV1().Deployments(d.Namespace).UpdateStatus(ctx, d, metav1.UpdateOptions{})
	if err != nil {
		return d, fmt.Errorf("update status of deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	return updated, nil
}

func (c *Controller) writeStatus(ctx context.Context, d *appsv1.Deployment, st appsv1.DeploymentStatus) error {
	if apiequality.Semantic.DeepEqual(d.Status, st) {
		return nil
	}
	cp := d.DeepCopy()
	cp.Status = st
	if _, err := c.client.AppsV1().Deployments(d.Namespace).UpdateStatus(ctx, cp, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("update status of deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	return nil
}

// requeueIfStuck looks at the Deployment again when its progress deadline
// passes, so that ProgressDeadlineExceeded is set without other events.
func (c *Controller) requeueIfStuck(d *appsv1.Deployment, st *appsv1.DeploymentStatus) {
	cond := condition(st, appsv1.DeploymentProgressing)
	if !hasProgressDeadline(d) || cond == nil || cond.Reason == ReasonNewRSAvailable || cond.Reason == ReasonTimedOut ||
		cond.Reason == ReasonPaused || complete(d, st) {
		return
	}
	deadline := time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second
	after := cond.LastUpdateTime.Add(deadline).Sub(c.clock.Now())
	c.queue.AddAfter(d.Namespace+"/"+d.Name, max(after, 0)+time.Second)
}

func replicaFailure(newRS *appsv1.ReplicaSet) *appsv1.ReplicaSetCondition {
	if newRS == nil {
		return nil
	}
	for i := range newRS.Status.Conditions {
		if newRS.Status.Conditions[i].Type == appsv1.ReplicaSetReplicaFailure {
			return &newRS.Status.Conditions[i]
		}
	}
	return nil
}

func condition(st *appsv1.DeploymentStatus, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	for i := range st.Conditions {
		if st.Conditions[i].Type == t {
			return &st.Conditions[i]
		}
	}
	return nil
}

func removeCondition(st *appsv1.DeploymentStatus, t appsv1.DeploymentConditionType) {
	out := st.Conditions[:0:0]
	for _, c := range st.Conditions {
		if c.Type != t {
			out = append(out, c)
		}
	}
	st.Conditions = out
	if len(out) == 0 {
		st.Conditions = nil
	}
}

// setCondition sets a condition; an unchanged status and reason leaves it
// alone, an unchanged status keeps its lastTransitionTime.
func (c *Controller) setCondition(st *appsv1.DeploymentStatus, t appsv1.DeploymentConditionType, s corev1.ConditionStatus, reason, msg string) {
	cur := condition(st, t)
	if cur != nil && cur.Status == s && cur.Reason == reason {
		return
	}
	now := metav1.NewTime(c.clock.Now())
	cond := appsv1.DeploymentCondition{Type: t, Status: s, Reason: reason, Message: msg, LastUpdateTime: now, LastTransitionTime: now}
	if cur != nil && cur.Status == s {
		cond.LastTransitionTime = cur.LastTransitionTime
	}
	removeCondition(st, t)
	st.Conditions = append(st.Conditions, cond)
}
