package deployment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
)

// sync reconciles one Deployment.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	cached, err := c.dLister.Deployments(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	d := cached.DeepCopy()
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil || sel.Empty() {
		return nil // an invalid or empty selector would select everything
	}
	rsList, err := c.claim(ctx, d, sel)
	if err != nil {
		return err
	}
	if d.DeletionTimestamp != nil {
		return c.syncStatusOnly(ctx, d, rsList)
	}
	if d, err = c.checkPaused(ctx, d); err != nil {
		return err
	}
	if d.Spec.Paused {
		return c.syncPaused(ctx, d, rsList)
	}
	if d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		return c.rolloutRecreate(ctx, d, rsList)
	}
	return c.rolloutRolling(ctx, d, rsList)
}

// claim returns deep copies of the ReplicaSets d controls, after adopting
// matching orphans and releasing owned ones that no longer match.
func (c *Controller) claim(ctx context.Context, d *appsv1.Deployment, sel labels.Selector) ([]*appsv1.ReplicaSet, error) {
	all, err := c.rsLister.ReplicaSets(d.Namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	var out []*appsv1.ReplicaSet
	var errs []error
	for _, rs := range all {
		matches := sel.Matches(labels.Set(rs.Labels))
		ref := metav1.GetControllerOf(rs)
		switch {
		case ref != nil && ref.UID == d.UID:
			if !matches {
				if d.DeletionTimestamp == nil {
					errs = append(errs, c.patchOwner(ctx, rs, map[string]any{"$patch": "delete", "uid": d.UID}))
				}
				continue
			}
		case ref != nil:
			continue
		default:
			if !matches || d.DeletionTimestamp != nil || rs.DeletionTimestamp != nil {
				continue
			}
			fresh, err := c.client.AppsV1().Deployments(d.Namespace).Get(ctx, d.Name, metav1.GetOptions{})
			if err != nil || fresh.UID != d.UID || fresh.DeletionTimestamp != nil {
				continue
			}
			if err := c.patchOwner(ctx, rs, ownerRef(d)); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		out = append(out, rs.DeepCopy())
	}
	return out, errors.Join(errs...)
}

func ownerRef(d *appsv1.Deployment) *metav1.OwnerReference {
	t := true
	return &metav1.OwnerReference{APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name, UID: d.UID,
		Controller: &t, BlockOwnerDeletion: &t}
}

func (c *Controller) patchOwner(ctx context.Context, rs *appsv1.ReplicaSet, ref any) error {
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{
		"ownerReferences": []any{ref}, "uid": rs.UID}})
	_, err := c.client.AppsV1().ReplicaSets(rs.Namespace).Patch(ctx, rs.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("patch owner of replicaset %s/%s: %w", rs.Namespace, rs.Name, err)
	}
	return nil
}

// revisions splits rsList into the new ReplicaSet (the oldest whose template
// equals d's, ignoring the hash label: so a rollback to an old template
// reuses that ReplicaSet) and the old ones, gives the new one the next
// revision, and creates it if create is set and there is none.
func (c *Controller) revisions(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet, create bool) (*appsv1.Deployment, *appsv1.ReplicaSet, []*appsv1.ReplicaSet, error) {
	byCreation(rsList)
	var newRS *appsv1.ReplicaSet
	var old []*appsv1.ReplicaSet
	var maxOld int64
	for _, rs := range rsList {
		if newRS == nil && equalIgnoreHash(&rs.Spec.Template, &d.Spec.Template) {
			newRS = rs
			continue
		}
		old = append(old, rs)
		maxOld = max(maxOld, revision(rs))
	}
	next := strconv.FormatInt(maxOld+1, 10)

	if newRS != nil {
		want := newRS.DeepCopy()
		want.Annotations = copyAnnotations(want.Annotations, d.Annotations)
		if revision(newRS) < maxOld+1 {
			want.Annotations[RevisionAnnotation] = next
		}
		want.Spec.MinReadySeconds = d.Spec.MinReadySeconds
		if !mapsEqual(want.Annotations, newRS.Annotations) || want.Spec.MinReadySeconds != newRS.Spec.MinReadySeconds {
			updated, err := c.client.AppsV1().ReplicaSets(want.Namespace).Update(ctx, want, metav1.UpdateOptions{})
			if err != nil {
				return d, nil, nil, fmt.Errorf("update replicaset %s/%s: %w", want.Namespace, want.Name, err)
			}
			*newRS = *updated
		}
		var err error
		if d, err = c.setRevision(ctx, d, newRS.Annotations[RevisionAnnotation]); err != nil {
			return d, nil, nil, err
		}
		if hasProgressDeadline(d) && condition(&d.Status, appsv1.DeploymentProgressing) == nil {
			c.setCondition(&d.Status, appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonFoundNewRS,
				fmt.Sprintf("Found new replica set %q", newRS.Name))
		}
		return d, newRS, old, nil
	}
	if !create {
		return d, nil, old, nil
	}

	hash := templateHash(&d.Spec.Template, d.Status.CollisionCount)
	tmpl := d.Spec.Template.DeepCopy()
	if tmpl.Labels == nil {
		tmpl.Labels = map[string]string{}
	}
	tmpl.Labels[HashLabel] = hash
	sel := d.Spec.Selector.DeepCopy()
	if sel.MatchLabels == nil {
		sel.MatchLabels = map[string]string{}
	}
	sel.MatchLabels[HashLabel] = hash
	n := newReplicas(d, old, nil)
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name:            d.Name + "-" + hash,
			Namespace:       d.Namespace,
			Labels:          copyMap(tmpl.Labels),
			Annotations:     copyAnnotations(map[string]string{RevisionAnnotation: next}, d.Annotations),
			OwnerReferences: []metav1.OwnerReference{*ownerRef(d)},
		},
		Spec: appsv1.ReplicaSetSpec{Replicas: &n, MinReadySeconds: d.Spec.MinReadySeconds, Selector: sel, Template: *tmpl},
	}
	created, err := c.client.AppsV1().ReplicaSets(d.Namespace).Create(ctx, rs, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		// Our own create, not yet in the cache, or a hash collision.
		existing, gerr := c.client.AppsV1().ReplicaSets(d.Namespace).Get(ctx, rs.Name, metav1.GetOptions{})
		if gerr != nil {
			return d, nil, nil, fmt.Errorf("get replicaset %s/%s: %w", rs.Namespace, rs.Name, gerr)
		}
		if ref := metav1.GetControllerOf(existing); ref != nil && ref.UID == d.UID && equalIgnoreHash(&existing.Spec.Template, &d.Spec.Template) {
			return d, existing, old, nil
		}
		cc := int32(0)
		if d.Status.CollisionCount != nil {
			cc = *d.Status.CollisionCount
		}
		cc++
		d.Status.CollisionCount = &cc
		if _, uerr := c.client.AppsV1().Deployments(d.Namespace).UpdateStatus(ctx, d, metav1.UpdateOptions{}); uerr != nil {
			return d, nil, nil, fmt.Errorf("bump collision count: %w", uerr)
		}
		return d, nil, nil, fmt.Errorf("replicaset name %s collides; collisionCount now %d", rs.Name, cc)
	}
	if err != nil {
		if hasProgressDeadline(d) {
			c.setCondition(&d.Status, appsv1.DeploymentProgressing, corev1.ConditionFalse, ReasonReplicaSetCreateFail,
				fmt.Sprintf("Failed to create new replica set %q: %v", rs.Name, err))
			_, _ = c.client.AppsV1().Deployments(d.Namespace).UpdateStatus(ctx, d, metav1.UpdateOptions{})
		}
		return d, nil, nil, fmt.Errorf("create replicaset %s/%s: %w", rs.Namespace, rs.Name, err)
	}
	c.events.Eventf(d, corev1.EventTypeNormal, "ScalingReplicaSet", "Scaled up replica set %s from 0 to %d", created.Name, n)
	c.log.Info("created replicaset", "deployment", d.Namespace+"/"+d.Name, "replicaset", created.Name, "replicas", n, "revision", next)
	if d, err = c.setRevision(ctx, d, next); err != nil {
		return d, nil, nil, err
	}
	if hasProgressDeadline(d) {
		c.setCondition(&d.Status, appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonNewRSCreated,
			fmt.Sprintf("Created new replica set %q", created.Name))
	}
	return d, created, old, nil
}

// setRevision writes the revision annotation on the Deployment.
func (c *Controller) setRevision(ctx context.Context, d *appsv1.Deployment, rev string) (*appsv1.Deployment, error) {
	if rev == "" || d.Annotations[RevisionAnnotation] == rev {
		return d, nil
	}
	cp := d.DeepCopy()
	if cp.Annotations == nil {
		cp.Annotations = map[string]string{}
	}
	cp.Annotations[RevisionAnnotation] = rev
	updated, err := c.client.AppsV1().Deployments(d.Namespace).Update(ctx, cp, metav1.UpdateOptions{})
	if err != nil {
		return d, fmt.Errorf("set revision of deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	updated.Status = d.Status // keep conditions set in this sync
	return updated, nil
}

// newReplicas is how many replicas the new ReplicaSet should have now.
func newReplicas(d *appsv1.Deployment, old []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) int32 {
	want := replicas(d.Spec.Replicas)
	if d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		return want
	}
	var cur int32
	if newRS != nil {
		cur = replicas(newRS.Spec.Replicas)
	}
	surge, _ := surgeAndUnavailable(d)
	total := sumSpec(old) + cur
	maxTotal := want + surge
	if total >= maxTotal {
		return cur
	}
	return cur + min(maxTotal-total, max(want-cur, 0))
}

// scale sets rs's replicas to n, updating rs in place.
func (c *Controller) scale(ctx context.Context, d *appsv1.Deployment, rs *appsv1.ReplicaSet, n int32) (bool, error) {
	if replicas(rs.Spec.Replicas) == n {
		return false, nil
	}
	cp := rs.DeepCopy()
	cp.Spec.Replicas = &n
	updated, err := c.client.AppsV1().ReplicaSets(rs.Namespace).Update(ctx, cp, metav1.UpdateOptions{})
	if err != nil {
		return false, fmt.Errorf("scale replicaset %s/%s to %d: %w", rs.Namespace, rs.Name, n, err)
	}
	from := replicas(rs.Spec.Replicas)
	dir := "up"
	if n < from {
		dir = "down"
	}
	c.events.Eventf(d, corev1.EventTypeNormal, "ScalingReplicaSet", "Scaled %s replica set %s from %d to %d", dir, rs.Name, from, n)
	c.log.Info("scaled replicaset", "deployment", d.Namespace+"/"+d.Name, "replicaset", rs.Name, "from", from, "to", n)
	*rs = *updated
	return true, nil
}

// cleanup deletes the oldest old ReplicaSets with no replicas beyond
// spec.revisionHistoryLimit.
func (c *Controller) cleanup(ctx context.Context, d *appsv1.Deployment, old []*appsv1.ReplicaSet) error {
	if d.Spec.RevisionHistoryLimit == nil {
		return nil
	}
	var alive []*appsv1.ReplicaSet
	for _, rs := range old {
		if rs.DeletionTimestamp == nil {
			alive = append(alive, rs)
		}
	}
	diff := len(alive) - int(*d.Spec.RevisionHistoryLimit)
	if diff <= 0 {
		return nil
	}
	sortByRevision(alive)
	var errs []error
	for _, rs := range alive[:diff] {
		if rs.Status.Replicas != 0 || replicas(rs.Spec.Replicas) != 0 || rs.Generation > rs.Status.ObservedGeneration {
			continue
		}
		err := c.client.AppsV1().ReplicaSets(rs.Namespace).Delete(ctx, rs.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete old replicaset %s/%s: %w", rs.Namespace, rs.Name, err))
			continue
		}
		c.log.Info("deleted old replicaset", "deployment", d.Namespace+"/"+d.Name, "replicaset", rs.Name, "revision", revision(rs))
	}
	return errors.Join(errs...)
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
