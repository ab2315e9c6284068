// Package statefulset is the StatefulSet controller: it keeps pods with
// stable ordinal names <set>-0 … <set>-(N-1), each with hostname = its name
// and subdomain = spec.serviceName for the headless Service, creates and
// deletes them in order (OrderedReady) or all at once (Parallel), and rolls
// template changes out in reverse ordinal order above the partition.
//
// Revisions are template hashes (the controller-revision-hash label), with no
// ControllerRevision objects: a pod recreated below the partition therefore
// gets the current template, not the old one it had.
package statefulset

import (
	"context"
	"fmt"
	"log/slog"
	"rudder/controlplane/controllers/worker"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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

// Controller is the StatefulSet controller.
type Controller struct {
	client    kubernetes.Interface
	log       *slog.Logger
	clock     clock.Clock
	setLister appslisters.StatefulSetLister
	podLister corelisters.PodLister
	synced    []cache.InformerSynced
	queue     workqueue.TypedRateLimitingInterface[string]
	events    record.EventRecorder
}

// New builds the controller and registers its informer handlers; call it
// before Informers.Start.
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil || cfg.Informers == nil {
		return nil, fmt.Errorf("statefulset controller: Client and Informers are required")
	}
	c := &Controller{client: cfg.Client, log: cfg.Logger, clock: cfg.Clock, events: cfg.Recorder}
	if c.events == nil {
		c.events = &record.FakeRecorder{}
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.log = c.log.With("controller", "statefulset")
	if c.clock == nil {
		c.clock = clock.RealClock{}
	}
	c.queue = workqueue.NewTypedRateLimitingQueueWithConfig(
		workqueue.DefaultTypedControllerRateLimiter[string](),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: "statefulset"})

	setInf := cfg.Informers.Apps().V1().StatefulSets()
	podInf := cfg.Informers.Core().V1().Pods()
	c.setLister, c.podLister = setInf.Lister(), podInf.Lister()
	if _, err := setInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, n any) { c.enqueue(n) },
		DeleteFunc: c.enqueue,
	}); err != nil {
		return nil, fmt.Errorf("statefulset controller: watch statefulsets: %w", err)
	}
	if _, err := podInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.podEvent,
		UpdateFunc: func(_, n any) { c.podEvent(n) },
		DeleteFunc: c.podEvent,
	}); err != nil {
		return nil, fmt.Errorf("statefulset controller: watch pods: %w", err)
	}
	c.synced = []cache.InformerSynced{setInf.Informer().HasSynced, podInf.Informer().HasSynced}
	return c, nil
}

// Run processes StatefulSets with workers goroutines until ctx is done. The
// informer factory must be started by the caller.
func (c *Controller) Run(ctx context.Context, workers int) error {
	return worker.Run(ctx, worker.Config{Name: "statefulset", Queue: c.queue, Synced: c.synced,
		Workers: workers, Sync: c.sync, Logger: c.log})
}

func (c *Controller) enqueue(obj any) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		return
	}
	c.queue.Add(key)
}

func key(set *appsv1.StatefulSet) string { return set.Namespace + "/" + set.Name }

func (c *Controller) podEvent(obj any) {
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
	if ref == nil || ref.Kind != "StatefulSet" {
		return
	}
	c.queue.Add(pod.Namespace + "/" + ref.Name)
}
