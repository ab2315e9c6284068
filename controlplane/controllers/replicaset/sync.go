package replicaset

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
)

// sync brings one ReplicaSet's pods and status in line with its spec.
func (c *Controller) sync(ctx context.Context, k string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(k)
	if err != nil {
		return nil
	}
	rs, err := c.rsLister.ReplicaSets(ns).Get(name)
	if isNotFound(err) {
		c.exp.Forget(k)
		return nil
	}
	if err != nil {
		return err
	}
	sel, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
	if err != nil {
		return nil // invalid selector: nothing to do until the spec changes
	}
	all, err := c.podLister.Pods(ns).List(labels.Everything())
	if err != nil {
		return err
	}
	// Check expectations before looking at pods, so that pods seen now are at
	// least as new as the expectations.
	needsManage := c.exp.Satisfied(k) && rs.DeletionTimestamp == nil
	pods, err := c.claim(ctx, rs, sel, all)
	if err != nil {
		return err
	}
	var manageErr error
	if needsManage {
		manageErr = c.manage(ctx, rs, pods)
	}
	st := computeStatus(rs, pods, manageErr, c.clock.Now())
	if err := c.updateStatus(ctx, rs, st); err != nil {
		return errors.Join(manageErr, err)
	}
	if manageErr == nil && rs.Spec.MinReadySeconds > 0 && st.ReadyReplicas != st.AvailableReplicas {
		c.queue.AddAfter(k, time.Duration(rs.Spec.MinReadySeconds)*time.Second)
	}
	return manageErr
}

// claim returns the active pods rs owns after adopting orphans that match
// its selector and releasing owned pods that no longer do.
func (c *Controller) claim(ctx context.Context, rs *appsv1.ReplicaSet, sel labels.Selector, all []*corev1.Pod) ([]*corev1.Pod, error) {
	var owned []*corev1.Pod
	var errs []error
	for _, p := range all {
		matches := !sel.Empty() && sel.Matches(labels.Set(p.Labels))
		ref := metav1.GetControllerOf(p)
		switch {
		case ref != nil && ref.UID == rs.UID:
			if matches {
				break
			}
			if rs.DeletionTimestamp == nil {
				if err := c.release(ctx, rs, p); err != nil {
					errs = append(errs, err)
				}
			}
			continue
		case ref != nil:
			continue // someone else's
		default:
			if !matches || rs.DeletionTimestamp != nil || p.DeletionTimestamp != nil {
				continue
			}
			adopted, err := c.adopt(ctx, rs, p)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if adopted == nil {
				continue
			}
			p = adopted
		}
		if isActive(p) {
			owned = append(owned, p)
		}
	}
	return owned, errors.Join(errs...)
}

// ownerRef is the controller reference rs puts on its pods.
func ownerRef(rs *appsv1.ReplicaSet) *metav1.OwnerReference {
	t := true
	return &metav1.OwnerReference{
		APIVersion:         "apps/v1",
		Kind:               "ReplicaSet",
		Name:               rs.Name,
		UID:                rs.UID,
		Controller:         &t,
		BlockOwnerDeletion: &t,
	}
}

func (c *Controller) adopt(ctx context.Context, rs *appsv1.ReplicaSet, p *corev1.Pod) (*corev1.Pod, error) {
	// Recheck against the server that rs still exists and is not being
	// deleted: a stale cache must not adopt into a dead owner.
	fresh, err := c.client.AppsV1().ReplicaSets(rs.Namespace).Get(ctx, rs.Name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("recheck replicaset %s before adopting: %w", key(rs), err)
	}
	if fresh.UID != rs.UID || fresh.DeletionTimestamp != nil {
		return nil, nil
	}
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{
		"ownerReferences": []any{ownerRef(rs)},
		"uid":             p.UID,
	}})
	out, err := c.client.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("adopt pod %s/%s: %w", p.Namespace, p.Name, err)
	}
	c.log.Info("adopted pod", "replicaset", key(rs), "pod", p.Name)
	return out, nil
}

func (c *Controller) release(ctx context.Context, rs *appsv1.ReplicaSet, p *corev1.Pod) error {
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{
		"ownerReferences": []any{map[string]any{"$patch": "delete", "uid": rs.UID}},
		"uid":             p.UID,
	}})
	_, err := c.client.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("release pod %s/%s: %w", p.Namespace, p.Name, err)
	}
	c.log.Info("released pod", "replicaset", key(rs), "pod", p.Name)
	return nil
}

// manage creates or deletes pods so that rs has spec.replicas of them.
func (c *Controller) manage(ctx context.Context, rs *appsv1.ReplicaSet, pods []*corev1.Pod) error {
	want := int32(1)
	if rs.Spec.Replicas != nil {
		want = *rs.Spec.Replicas
	}
	k := key(rs)
	diff := len(pods) - int(want)
	switch {
	case diff < 0:
		n := min(-diff, burstReplicas)
		c.exp.Expect(k, n, nil)
		ref := ownerRef(rs)
		created, err := slowStartBatch(n, 1, func() error {
			p := podFromTemplate(&rs.Spec.Template, rs.Namespace, rs.Name+"-", ref)
			created, err := c.client.CoreV1().Pods(rs.Namespace).Create(ctx, p, metav1.CreateOptions{})
			if err != nil {
				c.events.Eventf(rs, corev1.EventTypeWarning, "FailedCreate", "Error creating: %v", err)
				return err
			}
			c.events.Eventf(rs, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: %s", created.Name)
			return nil
		})
		if skipped := n - created; skipped > 0 {
			c.exp.ObserveAdd(k, skipped)
		}
		if err != nil {
			return fmt.Errorf("create pods for %s: %w", k, err)
		}
	case diff > 0:
		n := min(diff, burstReplicas)
		victims := append([]*corev1.Pod(nil), pods...)
		deletionOrder(victims)
		victims = victims[:n]
		uids := make([]types.UID, n)
		for i, p := range victims {
			uids[i] = p.UID
		}
		c.exp.Expect(k, 0, uids)
		var mu sync.Mutex
		var errs []error
		var wg sync.WaitGroup
		for _, p := range victims {
			wg.Go(func() {
				err := c.client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{
					Preconditions: &metav1.Preconditions{UID: &p.UID}})
				if err == nil {
					c.events.Eventf(rs, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: %s", p.Name)
					return
				}
				c.exp.ObserveDelete(k, p.UID) // will never be seen
				if isNotFound(err) {
					return
				}
				c.events.Eventf(rs, corev1.EventTypeWarning, "FailedDelete", "Error deleting: %v", err)
				mu.Lock()
				errs = append(errs, fmt.Errorf("delete pod %s/%s: %w", p.Namespace, p.Name, err))
				mu.Unlock()
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return &deleteError{err}
		}
	}
	return nil
}

// deleteError marks a failure to delete, for the ReplicaFailure reason.
type deleteError struct{ error }

func (e *deleteError) Unwrap() error { return e.error }

// slowStartBatch calls fn count times in batches that double in size from
// initial (1, 2, 4, …), running each batch in parallel, and stops after the
// first batch with an error. It returns how many calls succeeded; calls not
// made are not counted. A cluster that refuses pods (quota, admission) so
// sees a handful of failed requests rather than a burst of hundreds.
func slowStartBatch(count, initial int, fn func() error) (int, error) {
	done := 0
	for batch := min(count, initial); batch > 0; batch = min(2*batch, count-done) {
		var mu sync.Mutex
		var errs []error
		var wg sync.WaitGroup
		ok := 0
		for range batch {
			wg.Go(func() {
				err := fn()
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
				} else {
					ok++
				}
			})
		}
		wg.Wait()
		done += ok
		if len(errs) > 0 {
			return done, errors.Join(errs...)
		}
	}
	return done, nil
}

// computeStatus derives rs's status from its active pods and the outcome of
// the last manage.
func computeStatus(rs *appsv1.ReplicaSet, pods []*corev1.Pod, manageErr error, now time.Time) appsv1.ReplicaSetStatus {
	st := *rs.Status.DeepCopy()
	st.ObservedGeneration = rs.Generation
	st.Replicas, st.FullyLabeledReplicas, st.ReadyReplicas, st.AvailableReplicas = 0, 0, 0, 0
	tmpl := labels.Set(rs.Spec.Template.Labels).AsSelectorPreValidated()
	for _, p := range pods {
		st.Replicas++
		if tmpl.Matches(labels.Set(p.Labels)) {
			st.FullyLabeledReplicas++
		}
		if IsReady(p) {
			st.ReadyReplicas++
			if IsAvailable(p, rs.Spec.MinReadySeconds, now) {
				st.AvailableReplicas++
			}
		}
	}
	cond := -1
	for i, c := range st.Conditions {
		if c.Type == appsv1.ReplicaSetReplicaFailure {
			cond = i
		}
	}
	switch {
	case manageErr != nil && cond < 0:
		reason := "FailedCreate"
		var de *deleteError
		if errors.As(manageErr, &de) {
			reason = "FailedDelete"
		}
		st.Conditions = append(st.Conditions, appsv1.ReplicaSetCondition{
			Type:               appsv1.ReplicaSetReplicaFailure,
			Status:             corev1.ConditionTrue,
			LastTransitionTime: metav1.NewTime(now),
			Reason:             reason,
			Message:            manageErr.Error(),
		})
	case manageErr == nil && cond >= 0:
		st.Conditions = append(st.Conditions[:cond:cond], st.Conditions[cond+1:]...)
	}
	return st
}

func (c *Controller) updateStatus(ctx context.Context, rs *appsv1.ReplicaSet, st appsv1.ReplicaSetStatus) error {
	if apiequality.Semantic.DeepEqual(rs.Status, st) {
		return nil
	}
	cp := rs.DeepCopy()
	cp.Status = st
	if _, err := c.client.AppsV1().ReplicaSets(rs.Namespace).UpdateStatus(ctx, cp, metav1.UpdateOptions{}); err != nil {
		if isNotFound(err) {
			return nil
		}
		return fmt.Errorf("update status of replicaset %s: %w", key(rs), err)
	}
	return nil
}
