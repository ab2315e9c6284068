package daemonset

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/cache"
)

func ownerRef(ds *appsv1.DaemonSet) *metav1.OwnerReference {
	t := true
	return &metav1.OwnerReference{APIVersion: "apps/v1", Kind: "DaemonSet", Name: ds.Name, UID: ds.UID,
		Controller: &t, BlockOwnerDeletion: &t}
}

// sync brings one DaemonSet's pods and status in line with its spec and the
// nodes.
func (c *Controller) sync(ctx context.Context, k string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(k)
	if err != nil {
		return nil
	}
	ds, err := c.dsLister.DaemonSets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.exp.Forget(k)
		return nil
	}
	if err != nil {
		return err
	}
	nodes, err := c.nodeLister.List(labels.Everything())
	if err != nil {
		return err
	}
	all, err := c.podLister.Pods(ns).List(labels.Everything())
	if err != nil {
		return err
	}
	needsManage := c.exp.Satisfied(k) && ds.DeletionTimestamp == nil
	byNode := map[string][]*corev1.Pod{}
	for _, p := range all {
		if ref := metav1.GetControllerOf(p); ref == nil || ref.UID != ds.UID {
			continue
		}
		// Owned pods with no node (neither nodeName nor our affinity) are
		// left alone.
		if n := podNode(p); n != "" {
			byNode[n] = append(byNode[n], p)
		}
	}
	hash := TemplateHash(&ds.Spec.Template)
	now := c.clock.Now()

	var creates []string
	var deletes []*corev1.Pod
	desired := map[string]bool{}
	for _, n := range nodes {
		run, cont := nodeFits(&ds.Spec.Template.Spec, n)
		pods := byNode[n.Name]
		var active []*corev1.Pod
		for _, p := range pods {
			if p.DeletionTimestamp != nil {
				continue
			}
			if p.Status.Phase == corev1.PodFailed {
				deletes = append(deletes, p) // replaced once gone
				continue
			}
			active = append(active, p)
		}
		if run {
			desired[n.Name] = true
		}
		switch {
		case (run || cont) && len(active) == 0:
			if run && !hasTerminating(pods) {
				creates = append(creates, n.Name)
			}
		case (run || cont) && len(active) > 1:
			// Keep the oldest, preferring ones of the current revision.
			sort.SliceStable(active, func(i, j int) bool {
				ui, uj := active[i].Labels[RevisionLabel] == hash, active[j].Labels[RevisionLabel] == hash
				if ui != uj {
					return ui
				}
				return active[i].CreationTimestamp.Before(&active[j].CreationTimestamp)
			})
			deletes = append(deletes, active[1:]...)
		case !run && !cont:
			deletes = append(deletes, active...)
		}
		delete(byNode, n.Name)
	}
	for _, pods := range byNode { // pods on nodes that no longer exist
		for _, p := range pods {
			if p.DeletionTimestamp == nil {
				deletes = append(deletes, p)
			}
		}
	}
	var manageErr error
	if needsManage {
		if len(creates) == 0 && len(deletes) == 0 && ds.Spec.UpdateStrategy.Type != appsv1.OnDeleteDaemonSetStrategyType {
			deletes = c.rollingUpdate(ds, nodes, desired, hash, now)
		}
		manageErr = c.manage(ctx, ds, creates, deletes, hash)
	}
	st := c.status(ds, nodes, hash, now)
	if err := c.updateStatus(ctx, ds, st); err != nil {
		return errors.Join(manageErr, err)
	}
	if manageErr == nil && ds.Spec.MinReadySeconds > 0 && st.NumberReady != st.NumberAvailable {
		c.queue.AddAfter(k, time.Duration(ds.Spec.MinReadySeconds)*time.Second)
	}
	return manageErr
}

func hasTerminating(pods []*corev1.Pod) bool {
	for _, p := range pods {
		if p.DeletionTimestamp != nil {
			return true
		}
	}
	return false
}

// rollingUpdate picks the old-revision pods to delete now: all unavailable
// old pods, and available ones while fewer than maxUnavailable of the
// desired nodes lack an available pod.
func (c *Controller) rollingUpdate(ds *appsv1.DaemonSet, nodes []*corev1.Node, desired map[string]bool, hash string, now time.Time) []*corev1.Pod {
	maxUnavail := 1
	if ru := ds.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.MaxUnavailable != nil {
		v, err := intstr.GetScaledValueFromIntOrPercent(ru.MaxUnavailable, len(desired), true)
		if err == nil {
			maxUnavail = v
		}
	}
	if maxUnavail < 1 {
		maxUnavail = 1 // maxSurge is not implemented
	}
	pods := c.podsByNode(ds)
	unavailable := 0
	var oldAvailable, out []*corev1.Pod
	for _, n := range nodes {
		if !desired[n.Name] {
			continue
		}
		var p *corev1.Pod
		for _, q := range pods[n.Name] {
			if q.DeletionTimestamp == nil {
				p = q
			}
		}
		if p == nil || !IsAvailable(p, ds.Spec.MinReadySeconds, now) {
			unavailable++
			if p != nil && p.Labels[RevisionLabel] != hash {
				out = append(out, p)
			}
			continue
		}
		if p.Labels[RevisionLabel] != hash {
			oldAvailable = append(oldAvailable, p)
		}
	}
	for _, p := range oldAvailable {
		if unavailable >= maxUnavail {
			break
		}
		out = append(out, p)
		unavailable++
	}
	return out
}

func (c *Controller) podsByNode(ds *appsv1.DaemonSet) map[string][]*corev1.Pod {
	all, _ := c.podLister.Pods(ds.Namespace).List(labels.Everything())
	out := map[string][]*corev1.Pod{}
	for _, p := range all {
		if ref := metav1.GetControllerOf(p); ref == nil || ref.UID != ds.UID {
			continue
		}
		if n := podNode(p); n != "" {
			out[n] = append(out[n], p)
		}
	}
	return out
}

func (c *Controller) newPod(ds *appsv1.DaemonSet, node, hash string) *corev1.Pod {
	t := &ds.Spec.Template
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName:    ds.Name + "-",
			Namespace:       ds.Namespace,
			Labels:          copyMap(t.Labels),
			Annotations:     t.Annotations,
			Finalizers:      append([]string(nil), t.Finalizers...),
			OwnerReferences: []metav1.OwnerReference{*ownerRef(ds)},
		},
		Spec: *t.Spec.DeepCopy(),
	}
	if len(p.Annotations) > 0 {
		p.Annotations = copyMap(p.Annotations)
	}
	p.Labels[RevisionLabel] = hash
	p.Spec.Tolerations = addDefaultTolerations(p.Spec.Tolerations)
	setNodeAffinity(&p.Spec, node)
	return p
}

func (c *Controller) manage(ctx context.Context, ds *appsv1.DaemonSet, creates []string, deletes []*corev1.Pod, hash string) error {
	if len(creates) == 0 && len(deletes) == 0 {
		return nil
	}
	k := key(ds)
	uids := make([]types.UID, len(deletes))
	for i, p := range deletes {
		uids[i] = p.UID
	}
	c.exp.Expect(k, len(creates), uids)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, node := range creates {
		wg.Go(func() {
			created, err := c.client.CoreV1().Pods(ds.Namespace).Create(ctx, c.newPod(ds, node, hash), metav1.CreateOptions{})
			if err != nil {
				c.exp.ObserveAdd(k, 1)
				c.events.Eventf(ds, corev1.EventTypeWarning, "FailedCreate", "Error creating: %v", err)
				mu.Lock()
				errs = append(errs, fmt.Errorf("create pod for node %s: %w", node, err))
				mu.Unlock()
				return
			}
			c.events.Eventf(ds, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: %s", created.Name)
		})
	}
	for _, p := range deletes {
		wg.Go(func() {
			err := c.client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{
				Preconditions: &metav1.Preconditions{UID: &p.UID}})
			if err == nil {
				c.events.Eventf(ds, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: %s", p.Name)
				return
			}
			c.exp.ObserveDelete(k, p.UID)
			if apierrors.IsNotFound(err) {
				return
			}
			c.events.Eventf(ds, corev1.EventTypeWarning, "FailedDelete", "Error deleting: %v", err)
			mu.Lock()
			errs = append(errs, fmt.Errorf("delete pod %s/%s: %w", p.Namespace, p.Name, err))
			mu.Unlock()
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// status computes the DaemonSet status from the pods in the cache.
func (c *Controller) status(ds *appsv1.DaemonSet, nodes []*corev1.Node, hash string, now time.Time) appsv1.DaemonSetStatus {
	st := *ds.Status.DeepCopy()
	st.ObservedGeneration = ds.Generation
	st.CurrentNumberScheduled, st.NumberMisscheduled, st.DesiredNumberScheduled = 0, 0, 0
	st.NumberReady, st.NumberAvailable, st.UpdatedNumberScheduled, st.NumberUnavailable = 0, 0, 0, 0
	pods := c.podsByNode(ds)
	for _, n := range nodes {
		run, _ := nodeFits(&ds.Spec.Template.Spec, n)
		var p *corev1.Pod
		for _, q := range pods[n.Name] {
			if isActive(q) {
				p = q
				break
			}
		}
		if run {
			st.DesiredNumberScheduled++
		}
		if p == nil {
			if run {
				st.NumberUnavailable++
			}
			continue
		}
		if !run {
			st.NumberMisscheduled++
			continue
		}
		st.CurrentNumberScheduled++
		if IsReady(p) {
			st.NumberReady++
		}
		if IsAvailable(p, ds.Spec.MinReadySeconds, now) {
			st.NumberAvailable++
		} else {
			st.NumberUnavailable++
		}
		if p.Labels[RevisionLabel] == hash {
			st.UpdatedNumberScheduled++
		}
	}
	return st
}

func (c *Controller) updateStatus(ctx context.Context, ds *appsv1.DaemonSet, st appsv1.DaemonSetStatus) error {
	if apiequality.Semantic.DeepEqual(ds.Status, st) {
		return nil
	}
	cp := ds.DeepCopy()
	cp.Status = st
	if _, err := c.client.AppsV1().DaemonSets(ds.Namespace).UpdateStatus(ctx, cp, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("update status of daemonset %s: %w", key(ds), err)
	}
	return nil
}
