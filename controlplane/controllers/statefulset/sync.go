package statefulset

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/tools/cache"
)

// Labels the controller puts on its pods.
const (
	RevisionLabel = "controller-revision-hash"
	PodNameLabel  = "statefulset.kubernetes.io/pod-name"
	PodIndexLabel = "apps.kubernetes.io/pod-index"
)

// TemplateHash is the revision of a pod template: an FNV-32a hash of its
// JSON, safely encoded.
func TemplateHash(t *corev1.PodTemplateSpec) string {
	h := fnv.New32a()
	b, _ := json.Marshal(t)
	_, _ = h.Write(b)
	return rand.SafeEncodeString(fmt.Sprint(h.Sum32()))
}

func ownerRef(set *appsv1.StatefulSet) *metav1.OwnerReference {
	t := true
	return &metav1.OwnerReference{APIVersion: "apps/v1", Kind: "StatefulSet", Name: set.Name, UID: set.UID,
		Controller: &t, BlockOwnerDeletion: &t}
}

// ordinal parses "<set>-<n>"; -1 if name is not of that form.
func ordinal(set, name string) int {
	s, ok := strings.CutPrefix(name, set+"-")
	if !ok {
		return -1
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || strconv.Itoa(n) != s {
		return -1
	}
	return n
}

func readyCondition(p *corev1.Pod) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == corev1.PodReady {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

func isReady(p *corev1.Pod) bool {
	c := readyCondition(p)
	return p.Status.Phase == corev1.PodRunning && c != nil && c.Status == corev1.ConditionTrue
}

func isAvailable(p *corev1.Pod, minReadySeconds int32, now time.Time) bool {
	if !isReady(p) {
		return false
	}
	if minReadySeconds == 0 {
		return true
	}
	c := readyCondition(p)
	d := time.Duration(minReadySeconds) * time.Second
	return !c.LastTransitionTime.IsZero() && !c.LastTransitionTime.Add(d).After(now)
}

func finished(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded
}

// healthy: running, ready for minReadySeconds, not being deleted.
func healthy(set *appsv1.StatefulSet, p *corev1.Pod, now time.Time) bool {
	return p.DeletionTimestamp == nil && isAvailable(p, set.Spec.MinReadySeconds, now)
}

// sync brings one StatefulSet's pods and status in line with its spec.
func (c *Controller) sync(ctx context.Context, k string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(k)
	if err != nil {
		return nil
	}
	set, err := c.setLister.StatefulSets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	all, err := c.podLister.Pods(ns).List(labels.Everything())
	if err != nil {
		return err
	}
	byOrd := map[int]*corev1.Pod{}
	for _, p := range all {
		if ref := metav1.GetControllerOf(p); ref == nil || ref.UID != set.UID {
			continue
		}
		if i := ordinal(set.Name, p.Name); i >= 0 {
			byOrd[i] = p
		}
	}
	updateRev := TemplateHash(&set.Spec.Template)
	now := c.clock.Now()
	var manageErr error
	if set.DeletionTimestamp == nil {
		manageErr = c.manage(ctx, set, byOrd, updateRev, now)
	}
	st := computeStatus(set, byOrd, updateRev, now)
	if err := c.updateStatus(ctx, set, st); err != nil {
		return errors.Join(manageErr, err)
	}
	if manageErr == nil && set.Spec.MinReadySeconds > 0 && st.ReadyReplicas != st.AvailableReplicas {
		c.queue.AddAfter(k, time.Duration(set.Spec.MinReadySeconds)*time.Second)
	}
	return manageErr
}

func replicasOf(set *appsv1.StatefulSet) int {
	if set.Spec.Replicas == nil {
		return 1
	}
	return int(*set.Spec.Replicas)
}

func startOf(set *appsv1.StatefulSet) int {
	if set.Spec.Ordinals == nil {
		return 0
	}
	return int(set.Spec.Ordinals.Start)
}

// manage takes the next steps towards the spec. With OrderedReady it takes
// at most one step and stops at the first pod that is missing, terminating
// or not healthy; with Parallel it creates and deletes all at once. Rolling
// updates go one pod at a time in both.
func (c *Controller) manage(ctx context.Context, set *appsv1.StatefulSet, byOrd map[int]*corev1.Pod, updateRev string, now time.Time) error {
	ordered := set.Spec.PodManagementPolicy != appsv1.ParallelPodManagement
	start, replicas := startOf(set), replicasOf(set)
	end := start + replicas
	var errs []error
	for i := start; i < end; i++ {
		p := byOrd[i]
		switch {
		case p == nil:
			if err := c.create(ctx, set, i, updateRev); err != nil {
				errs = append(errs, err)
			}
		case p.DeletionTimestamp != nil:
		case finished(p):
			// Deleted now, recreated once it is gone.
			if err := c.delete(ctx, set, p); err != nil {
				errs = append(errs, err)
			}
		case healthy(set, p, now):
			continue
		}
		if ordered {
			return errors.Join(errs...)
		}
	}
	var condemned []int
	for i := range byOrd {
		if i < start || i >= end {
			condemned = append(condemned, i)
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(condemned)))
	for _, i := range condemned {
		p := byOrd[i]
		if p.DeletionTimestamp == nil {
			if err := c.delete(ctx, set, p); err != nil {
				errs = append(errs, err)
			}
		}
		if ordered {
			return errors.Join(errs...)
		}
	}
	if len(errs) > 0 || set.Spec.UpdateStrategy.Type == appsv1.OnDeleteStatefulSetStrategyType {
		return errors.Join(errs...)
	}
	partition := 0
	if ru := set.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
		partition = int(*ru.Partition)
	}
	for i := end - 1; i >= start+partition; i-- {
		p := byOrd[i]
		if p == nil || p.DeletionTimestamp != nil {
			return nil // wait for its replacement
		}
		if p.Labels[RevisionLabel] != updateRev {
			return c.delete(ctx, set, p)
		}
		if !healthy(set, p, now) {
			return nil
		}
	}
	return nil
}

func (c *Controller) newPod(set *appsv1.StatefulSet, i int, rev string) *corev1.Pod {
	t := &set.Spec.Template
	name := fmt.Sprintf("%s-%d", set.Name, i)
	l := make(map[string]string, len(t.Labels)+3)
	for k, v := range t.Labels {
		l[k] = v
	}
	l[PodNameLabel] = name
	l[PodIndexLabel] = strconv.Itoa(i)
	l[RevisionLabel] = rev
	var ann map[string]string
	if len(t.Annotations) > 0 {
		ann = make(map[string]string, len(t.Annotations))
		for k, v := range t.Annotations {
			ann[k] = v
		}
	}
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:            name,
			Namespace:       set.Namespace,
			Labels:          l,
			Annotations:     ann,
			Finalizers:      append([]string(nil), t.Finalizers...),
			OwnerReferences: []metav1.OwnerReference{*ownerRef(set)},
		},
		Spec: *t.Spec.DeepCopy(),
	}
	p.Spec.Hostname = name
	p.Spec.Subdomain = set.Spec.ServiceName
	for _, claim := range set.Spec.VolumeClaimTemplates {
		v := corev1.Volume{Name: claim.Name, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim.Name + "-" + name},
		}}
		replaced := false
		for j := range p.Spec.Volumes {
			if p.Spec.Volumes[j].Name == claim.Name {
				p.Spec.Volumes[j], replaced = v, true
			}
		}
		if !replaced {
			p.Spec.Volumes = append(p.Spec.Volumes, v)
		}
	}
	return p
}

// create makes the claims from volumeClaimTemplates (if missing) and the pod
// for ordinal i.
func (c *Controller) create(ctx context.Context, set *appsv1.StatefulSet, i int, rev string) error {
	p := c.newPod(set, i, rev)
	for _, t := range set.Spec.VolumeClaimTemplates {
		pvc := t.DeepCopy()
		pvc.ResourceVersion, pvc.UID = "", ""
		pvc.Name = t.Name + "-" + p.Name
		pvc.Namespace = set.Namespace
		if pvc.Labels == nil {
			pvc.Labels = map[string]string{}
		}
		if set.Spec.Selector != nil {
			for k, v := range set.Spec.Selector.MatchLabels {
				pvc.Labels[k] = v
			}
		}
		_, err := c.client.CoreV1().PersistentVolumeClaims(set.Namespace).Create(ctx, pvc, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			c.events.Eventf(set, corev1.EventTypeWarning, "FailedCreate", "create Claim %s for Pod %s in StatefulSet %s failed error: %v", pvc.Name, p.Name, set.Name, err)
			return fmt.Errorf("create claim %s: %w", pvc.Name, err)
		}
	}
	_, err := c.client.CoreV1().Pods(set.Namespace).Create(ctx, p, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		if _, lerr := c.podLister.Pods(set.Namespace).Get(p.Name); lerr == nil {
			// In the cache but not ours.
			return fmt.Errorf("pod %s/%s exists and is not owned by statefulset %s", set.Namespace, p.Name, set.Name)
		}
		return nil // ours, not in the cache yet
	}
	if err != nil {
		c.events.Eventf(set, corev1.EventTypeWarning, "FailedCreate", "create Pod %s in StatefulSet %s failed error: %v", p.Name, set.Name, err)
		return fmt.Errorf("create pod %s/%s: %w", set.Namespace, p.Name, err)
	}
	c.events.Eventf(set, corev1.EventTypeNormal, "SuccessfulCreate", "create Pod %s in StatefulSet %s successful", p.Name, set.Name)
	return nil
}

func (c *Controller) delete(ctx context.Context, set *appsv1.StatefulSet, p *corev1.Pod) error {
	err := c.client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{
		Preconditions: &metav1.Preconditions{UID: &p.UID}})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil // gone already (or replaced): the cache will tell
	}
	if err != nil {
		c.events.Eventf(set, corev1.EventTypeWarning, "FailedDelete", "delete Pod %s in StatefulSet %s failed error: %v", p.Name, set.Name, err)
		return fmt.Errorf("delete pod %s/%s: %w", p.Namespace, p.Name, err)
	}
	c.events.Eventf(set, corev1.EventTypeNormal, "SuccessfulDelete", "delete Pod %s in StatefulSet %s successful", p.Name, set.Name)
	return nil
}

// computeStatus counts the set's pods that exist and are not being deleted.
// currentRevision moves to updateRevision once every replica is updated and
// ready.
func computeStatus(set *appsv1.StatefulSet, byOrd map[int]*corev1.Pod, updateRev string, now time.Time) appsv1.StatefulSetStatus {
	st := *set.Status.DeepCopy()
	st.ObservedGeneration = set.Generation
	st.UpdateRevision = updateRev
	if st.CurrentRevision == "" {
		st.CurrentRevision = updateRev
	}
	st.Replicas, st.ReadyReplicas, st.AvailableReplicas, st.CurrentReplicas, st.UpdatedReplicas = 0, 0, 0, 0, 0
	for _, p := range byOrd {
		if p.DeletionTimestamp != nil {
			continue
		}
		st.Replicas++
		if isReady(p) {
			st.ReadyReplicas++
			if isAvailable(p, set.Spec.MinReadySeconds, now) {
				st.AvailableReplicas++
			}
		}
		if p.Labels[RevisionLabel] == st.CurrentRevision {
			st.CurrentReplicas++
		}
		if p.Labels[RevisionLabel] == updateRev {
			st.UpdatedReplicas++
		}
	}
	want := int32(replicasOf(set))
	if st.CurrentRevision != updateRev && st.UpdatedReplicas == want && st.Replicas == want && st.ReadyReplicas == want {
		st.CurrentRevision = updateRev
		st.CurrentReplicas = st.UpdatedReplicas
	}
	return st
}

func (c *Controller) updateStatus(ctx context.Context, set *appsv1.StatefulSet, st appsv1.StatefulSetStatus) error {
	if apiequality.Semantic.DeepEqual(set.Status, st) {
		return nil
	}
	cp := set.DeepCopy()
	cp.Status = st
	if _, err := c.client.AppsV1().StatefulSets(set.Namespace).UpdateStatus(ctx, cp, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("update status of statefulset %s: %w", key(set), err)
	}
	return nil
}
