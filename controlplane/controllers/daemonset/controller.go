// Package daemonset is the DaemonSet controller: it keeps one pod of each
// DaemonSet on every eligible node, replaces pods whose template changed
// (RollingUpdate, or OnDelete), and reports what it sees in the status.
//
// Pods are created with spec.affinity requiring the node's metadata.name
// (nodeAffinity matchFields), as upstream, and left for the scheduler to bind;
// a pod's node is its spec.nodeName once bound, or that matchField before.
package daemonset

import (
	"context"
	"fmt"
	"log/slog"
	"rudder/controlplane/controllers/expectations"
	"rudder/controlplane/controllers/worker"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
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

// Config is what the controller needs.
type Config struct {
	Client    kubernetes.Interface
	Informers informers.SharedInformerFactory
	Logger    *slog.Logger // nil: slog.Default()
	Clock     clock.Clock  // nil: the real clock
	// Recorder receives SuccessfulCreate, SuccessfulDelete, FailedCreate,
	// FailedDelete events; nil: none.
	Recorder record.EventRecorder
}

// Controller is the DaemonSet controller.
type Controller struct {
	client     kubernetes.Interface
	log        *slog.Logger
	clock      clock.Clock
	dsLister   appslisters.DaemonSetLister
	podLister  corelisters.PodLister
	nodeLister corelisters.NodeLister
	synced     []cache.InformerSynced
	queue      workqueue.TypedRateLimitingInterface[string]
	exp        *expectations.Expectations
	events     record.EventRecorder
}

// New builds the controller and registers its informer handlers; call it
// before Informers.Start.
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil || cfg.Informers == nil {
		return nil, fmt.Errorf("daemonset controller: Client and Informers are required")
	}
	c := &Controller{client: cfg.Client, log: cfg.Logger, clock: cfg.Clock, events: cfg.Recorder}
	if c.events == nil {
		c.events = &record.FakeRecorder{}
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.log = c.log.With("controller", "daemonset")
	if c.clock == nil {
		c.clock = clock.RealClock{}
	}
	c.exp = expectations.New(c.clock)
	c.queue = workqueue.NewTypedRateLimitingQueueWithConfig(
		workqueue.DefaultTypedControllerRateLimiter[string](),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: "daemonset"})

	dsInf := cfg.Informers.Apps().V1().DaemonSets()
	podInf := cfg.Informers.Core().V1().Pods()
	nodeInf := cfg.Informers.Core().V1().Nodes()
	c.dsLister, c.podLister, c.nodeLister = dsInf.Lister(), podInf.Lister(), nodeInf.Lister()
	if _, err := dsInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, n any) { c.enqueue(n) },
		DeleteFunc: c.enqueue,
	}); err != nil {
		return nil, fmt.Errorf("daemonset controller: watch daemonsets: %w", err)
	}
	if _, err := podInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { c.podEvent(o, true, false) },
		UpdateFunc: func(_, n any) { c.podEvent(n, false, false) },
		DeleteFunc: func(o any) { c.podEvent(o, false, true) },
	}); err != nil {
		return nil, fmt.Errorf("daemonset controller: watch pods: %w", err)
	}
	all := func(any) { c.enqueueAll() }
	if _, err := nodeInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    all,
		UpdateFunc: func(o, n any) { c.nodeUpdated(o, n) },
		DeleteFunc: all,
	}); err != nil {
		return nil, fmt.Errorf("daemonset controller: watch nodes: %w", err)
	}
	c.synced = []cache.InformerSynced{dsInf.Informer().HasSynced, podInf.Informer().HasSynced, nodeInf.Informer().HasSynced}
	return c, nil
}

// Run processes DaemonSets with workers goroutines until ctx is done. The
// informer factory must be started by the caller.
func (c *Controller) Run(ctx context.Context, workers int) error {
	return worker.Run(ctx, worker.Config{Name: "daemonset", Queue: c.queue, Synced: c.synced,
		Workers: workers, Sync: c.sync, Logger: c.log})
}

func (c *Controller) enqueue(obj any) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		return
	}
	c.queue.Add(key)
}

func (c *Controller) enqueueAll() {
	all, err := c.dsLister.List(labels.Everything())
	if err != nil {
		return
	}
	for _, ds := range all {
		c.queue.Add(key(ds))
	}
}

func (c *Controller) nodeUpdated(oldObj, newObj any) {
	o, n := oldObj.(*corev1.Node), newObj.(*corev1.Node)
	if o.ResourceVersion != "" && o.ResourceVersion == n.ResourceVersion {
		return
	}
	c.enqueueAll()
}

func key(ds *appsv1.DaemonSet) string { return ds.Namespace + "/" + ds.Name }

func (c *Controller) podEvent(obj any, added, deleted bool) {
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
	if ref == nil || ref.Kind != "DaemonSet" {
		return
	}
	ds, err := c.dsLister.DaemonSets(pod.Namespace).Get(ref.Name)
	if err != nil || ds.UID != ref.UID {
		return
	}
	k := key(ds)
	switch {
	case deleted || pod.DeletionTimestamp != nil:
		c.exp.ObserveDelete(k, pod.UID)
	case added:
		c.exp.ObserveAdd(k, 1)
	}
	c.queue.Add(k)
}
