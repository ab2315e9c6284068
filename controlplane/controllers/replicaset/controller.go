// Package replicaset is the ReplicaSet controller: it keeps spec.replicas
// pods that match a ReplicaSet's selector and are owned by it, and reports
// what it sees in the ReplicaSet's status.
package replicaset

import (
	"context"
	"fmt"
	"log/slog"
	"rudder/controlplane/controllers/expectations"
	"rudder/controlplane/controllers/worker"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
)

// burstReplicas caps the pods created or deleted in one sync, as upstream.
const burstReplicas = 500

// Config is what the controller needs.
type Config struct {
	Client    kubernetes.Interface
	Informers informers.SharedInformerFactory
	Logger    *slog.Logger // nil: slog.Default()
	Clock     clock.Clock  // nil: the real clock
	// Recorder receives the upstream events (SuccessfulCreate,
	// SuccessfulDelete, FailedCreate, FailedDelete); nil: none.
	Recorder record.EventRecorder
}

// Controller is the ReplicaSet controller.
type Controller struct {
	client    kubernetes.Interface
	log       *slog.Logger
	clock     clock.Clock
	rsLister  appslisters.ReplicaSetLister
	podLister corelisters.PodLister
	synced    []cache.InformerSynced
	queue     workqueue.TypedRateLimitingInterface[string]
	exp       *expectations.Expectations
	events    record.EventRecorder
}

// New builds the controller and registers its informer handlers; call it
// before Informers.Start.
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil || cfg.Informers == nil {
		return nil, fmt.Errorf("replicaset controller: Client and Informers are required")
	}
	c := &Controller{
		client: cfg.Client,
		log:    cfg.Logger,
		clock:  cfg.Clock,
		events: cfg.Recorder,
	}
	if c.events == nil {
		c.events = &record.FakeRecorder{} // discards: its channel is nil
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.log = c.log.With("controller", "replicaset")
	if c.clock == nil {
		c.clock = clock.RealClock{}
	}
	c.exp = expectations.New(c.clock)
	c.queue = workqueue.NewTypedRateLimitingQueueWithConfig(
		workqueue.DefaultTypedControllerRateLimiter[string](),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: "replicaset"})

	rsInf := cfg.Informers.Apps().V1().ReplicaSets()
	podInf := cfg.Informers.Core().V1().Pods()
	c.rsLister = rsInf.Lister()
	c.podLister = podInf.Lister()
	if _, err := rsInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, n any) { c.enqueue(n) },
		DeleteFunc: c.enqueue,
	}); err != nil {
		return nil, fmt.Errorf("replicaset controller: watch replicasets: %w", err)
	}
	if _, err := podInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.addPod,
		UpdateFunc: c.updatePod,
		DeleteFunc: c.deletePod,
	}); err != nil {
		return nil, fmt.Errorf("replicaset controller: watch pods: %w", err)
	}
	c.synced = []cache.InformerSynced{rsInf.Informer().HasSynced, podInf.Informer().HasSynced}
	return c, nil
}

// Run processes ReplicaSets with workers goroutines until ctx is done. The
// informer factory must be started by the caller.
func (c *Controller) Run(ctx context.Context, workers int) error {
	return worker.Run(ctx, worker.Config{Name: "replicaset", Queue: c.queue, Synced: c.synced,
		Workers: workers, Sync: c.sync, Logger: c.log})
}

func (c *Controller) enqueue(obj any) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		return
	}
	c.queue.Add(key)
}

// ownerOf returns the ReplicaSet that controls pod, if the cache has it.
func (c *Controller) ownerOf(pod *corev1.Pod, ref *metav1.OwnerReference) *appsv1.ReplicaSet {
	if ref == nil || ref.Kind != "ReplicaSet" {
		return nil
	}
	rs, err := c.rsLister.ReplicaSets(pod.Namespace).Get(ref.Name)
	if err != nil || rs.UID != ref.UID {
		return nil
	}
	return rs
}

// matching returns the ReplicaSets whose selector matches the orphan pod.
func (c *Controller) matching(pod *corev1.Pod) []*appsv1.ReplicaSet {
	all, err := c.rsLister.ReplicaSets(pod.Namespace).List(labels.Everything())
	if err != nil {
		return nil
	}
	var out []*appsv1.ReplicaSet
	for _, rs := range all {
		sel, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
		if err != nil || sel.Empty() {
			continue
		}
		if sel.Matches(labels.Set(pod.Labels)) {
			out = append(out, rs)
		}
	}
	return out
}

func key(rs *appsv1.ReplicaSet) string { return rs.Namespace + "/" + rs.Name }

func (c *Controller) addPod(obj any) {
	pod := obj.(*corev1.Pod)
	if pod.DeletionTimestamp != nil {
		c.deletePod(pod)
		return
	}
	if ref := metav1.GetControllerOf(pod); ref != nil {
		if rs := c.ownerOf(pod, ref); rs != nil {
			c.exp.ObserveAdd(key(rs), 1)
			c.queue.Add(key(rs))
		}
		return
	}
	for _, rs := range c.matching(pod) {
		c.queue.Add(key(rs))
	}
}

func (c *Controller) updatePod(oldObj, newObj any) {
	old, cur := oldObj.(*corev1.Pod), newObj.(*corev1.Pod)
	if old.ResourceVersion != "" && old.ResourceVersion == cur.ResourceVersion { // a resync
		return
	}
	if cur.DeletionTimestamp != nil && old.DeletionTimestamp == nil {
		// Graceful deletion began: the pod no longer counts, and a deletion
		// we asked for is now visible.
		c.deletePod(cur)
		return
	}
	oldRef, curRef := metav1.GetControllerOf(old), metav1.GetControllerOf(cur)
	if oldRef != nil && (curRef == nil || oldRef.UID != curRef.UID) {
		if rs := c.ownerOf(old, oldRef); rs != nil {
			c.queue.Add(key(rs))
		}
	}
	if curRef != nil {
		rs := c.ownerOf(cur, curRef)
		if rs == nil {
			return
		}
		c.queue.Add(key(rs))
		// A pod that just became ready turns available minReadySeconds later.
		if !IsReady(old) && IsReady(cur) && rs.Spec.MinReadySeconds > 0 {
			c.queue.AddAfter(key(rs), time.Duration(rs.Spec.MinReadySeconds)*time.Second+time.Second)
		}
		return
	}
	for _, rs := range c.matching(cur) {
		c.queue.Add(key(rs))
	}
}

func (c *Controller) deletePod(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		tomb, ok := obj.(cache.DeletedFinalStateUnknown)
		if !ok {
			return
		}
		if pod, ok = tomb.Obj.(*corev1.Pod); !ok {
			return
		}
	}
	ref := metav1.GetControllerOf(pod)
	rs := c.ownerOf(pod, ref)
	if rs == nil {
		return
	}
	c.exp.ObserveDelete(key(rs), pod.UID)
	c.queue.Add(key(rs))
}

// isNotFound is apierrors.IsNotFound, named for the call sites.
func isNotFound(err error) bool { return apierrors.IsNotFound(err) }
