package deployment

import (
	"context"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// rolloutRolling moves replicas from the old ReplicaSets to the new one
// within maxSurge and maxUnavailable, counted on available pods.
func (c *Controller) rolloutRolling(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) error {
	d, newRS, old, err := c.revisions(ctx, d, rsList, true)
	if err != nil {
		return err
	}
	all := append(append([]*appsv1.ReplicaSet(nil), old...), newRS)

	// Scale the new ReplicaSet up (or down to the desired count).
	want := replicas(d.Spec.Replicas)
	target := want
	if replicas(newRS.Spec.Replicas) < want {
		target = newReplicas(d, old, newRS)
	}
	if scaled, err := c.scale(ctx, d, newRS, target); err != nil || scaled {
		return joinErr(err, c.syncRolloutStatus(ctx, d, all, newRS))
	}
	if scaled, err := c.scaleDownOld(ctx, d, all, old, newRS); err != nil || scaled {
		return joinErr(err, c.syncRolloutStatus(ctx, d, all, newRS))
	}
	st := calculateStatus(d, all, newRS)
	if complete(d, &st) {
		if err := c.cleanup(ctx, d, old); err != nil {
			return err
		}
	}
	return c.syncRolloutStatus(ctx, d, all, newRS)
}

// scaleDownOld scales old ReplicaSets down as far as maxUnavailable allows:
// first their unavailable replicas, then, oldest first, available ones while
// at least replicas-maxUnavailable pods stay available.
func (c *Controller) scaleDownOld(ctx context.Context, d *appsv1.Deployment, all, old []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) (bool, error) {
	if sumSpec(old) == 0 {
		return false, nil
	}
	_, maxUnavail := surgeAndUnavailable(d)
	minAvailable := replicas(d.Spec.Replicas) - maxUnavail
	newUnavailable := replicas(newRS.Spec.Replicas) - newRS.Status.AvailableReplicas
	maxScaledDown := sumSpec(all) - minAvailable - newUnavailable
	if maxScaledDown <= 0 {
		return false, nil
	}
	byCreation(old)
	var scaled int32
	// Unhealthy old replicas cost no availability: remove them first.
	for _, rs := range old {
		if scaled >= maxScaledDown {
			break
		}
		cur := replicas(rs.Spec.Replicas)
		unhealthy := cur - rs.Status.AvailableReplicas
		if cur == 0 || unhealthy <= 0 {
			continue
		}
		n := min(maxScaledDown-scaled, unhealthy)
		if _, err := c.scale(ctx, d, rs, cur-n); err != nil {
			return scaled > 0, err
		}
		scaled += n
	}
	// Then available ones, keeping minAvailable. A ReplicaSet just scaled
	// down still reports the pods it is deleting as available until its
	// controller catches up; they will not stay, so no ReplicaSet counts
	// for more than its spec (without this, a stale status let a rollout
	// with maxUnavailable=0 drop below the desired replicas).
	var available int32
	for _, rs := range all {
		if rs != nil {
			available += min(rs.Status.AvailableReplicas, replicas(rs.Spec.Replicas))
		}
	}
	budget := available - minAvailable
	for _, rs := range old {
		if budget <= 0 {
			break
		}
		cur := replicas(rs.Spec.Replicas)
		if cur == 0 {
			continue
		}
		n := min(cur, budget)
		if _, err := c.scale(ctx, d, rs, cur-n); err != nil {
			return true, err
		}
		budget -= n
		scaled += n
	}
	return scaled > 0, nil
}

// rolloutRecreate scales every old ReplicaSet to zero, waits for their pods
// to be gone, then scales the new one up.
func (c *Controller) rolloutRecreate(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) error {
	d, newRS, old, err := c.revisions(ctx, d, rsList, false)
	if err != nil {
		return err
	}
	all := withNew(old, newRS)
	scaledDown := false
	for _, rs := range old {
		s, err := c.scale(ctx, d, rs, 0)
		if err != nil {
			return err
		}
		scaledDown = scaledDown || s
	}
	if scaledDown || c.oldPodsRunning(old) {
		return c.syncRolloutStatus(ctx, d, all, newRS)
	}
	if newRS == nil {
		if d, newRS, old, err = c.revisions(ctx, d, rsList, true); err != nil {
			return err
		}
		all = withNew(old, newRS)
	}
	if _, err := c.scale(ctx, d, newRS, replicas(d.Spec.Replicas)); err != nil {
		return err
	}
	st := calculateStatus(d, all, newRS)
	if complete(d, &st) {
		if err := c.cleanup(ctx, d, old); err != nil {
			return err
		}
	}
	return c.syncRolloutStatus(ctx, d, all, newRS)
}

// oldPodsRunning reports whether any pod of the old ReplicaSets has not
// finished (terminating pods still count: Recreate means no overlap).
func (c *Controller) oldPodsRunning(old []*appsv1.ReplicaSet) bool {
	if len(old) == 0 {
		return false
	}
	if sumStatus(old, func(s *appsv1.ReplicaSetStatus) int32 { return s.Replicas }) > 0 {
		return true
	}
	uids := map[string]bool{}
	for _, rs := range old {
		uids[string(rs.UID)] = true
	}
	pods, err := c.podLister.Pods(old[0].Namespace).List(labels.Everything())
	if err != nil {
		return true
	}
	for _, p := range pods {
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		for _, ref := range p.OwnerReferences {
			if ref.Controller != nil && *ref.Controller && uids[string(ref.UID)] {
				return true
			}
		}
	}
	return false
}

// syncPaused keeps a paused Deployment's status current and its history
// trimmed without rolling anything out. A change of replicas is applied when
// a single ReplicaSet is active (no proportional scaling across several).
func (c *Controller) syncPaused(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) error {
	d, newRS, old, err := c.revisions(ctx, d, rsList, false)
	if err != nil {
		return err
	}
	all := withNew(old, newRS)
	var active []*appsv1.ReplicaSet
	for _, rs := range all {
		if replicas(rs.Spec.Replicas) > 0 {
			active = append(active, rs)
		}
	}
	if len(active) == 1 {
		if _, err := c.scale(ctx, d, active[0], replicas(d.Spec.Replicas)); err != nil {
			return err
		}
	}
	if err := c.cleanup(ctx, d, old); err != nil {
		return err
	}
	return c.syncStatusOnly(ctx, d, all)
}

func withNew(old []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) []*appsv1.ReplicaSet {
	all := append([]*appsv1.ReplicaSet(nil), old...)
	if newRS != nil {
		all = append(all, newRS)
	}
	return all
}

func sortByRevision(rss []*appsv1.ReplicaSet) {
	sort.SliceStable(rss, func(i, j int) bool {
		ri, rj := revision(rss[i]), revision(rss[j])
		if ri != rj {
			return ri < rj
		}
		return rss[i].CreationTimestamp.Before(&rss[j].CreationTimestamp)
	})
}

func joinErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
