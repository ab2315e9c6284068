// Package job is the Job controller: it runs pods from a Job's template
// until spec.completions of them have succeeded (at most spec.parallelism at
// a time), fails the Job after more than spec.backoffLimit pod failures or
// once spec.activeDeadlineSeconds has passed, reports what it sees in the
// Job's status, and deletes finished Jobs after ttlSecondsAfterFinished.
//
// Simplifications against upstream: NonIndexed completion mode only (Indexed
// Jobs are treated as NonIndexed); no pod failure / success policies; no
// exponential back-off between retries of failed pods (a failed pod is
// replaced at the next sync); succeeded/failed are counted from the pods that
// still exist (never decreasing), not through tracking finalizers; orphan
// pods are not adopted.
package job

import (
	"context"
	"fmt"
	"log/slog"
	"rudder/controlplane/controllers/expectations"
	"rudder/controlplane/controllers/worker"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
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
	// Clock is used for startTime, deadlines and TTLs; timed re-syncs run
	// on it too (through AfterFunc), so a fake clock drives them in tests.
	// nil: the real clock.
	Clock clock.Clock
	// Recorder receives the events (SuccessfulCreate, SuccessfulDelete,
	// FailedCreate, FailedDelete, Completed, BackoffLimitExceeded,
	// DeadlineExceeded); nil: none.
	Recorder record.EventRecorder
}

// Controller is the Job controller.
type Controller struct {
	client    kubernetes.Interface
	log       *slog.Logger
	clock     clock.Clock
	jobLister batchlisters.JobLister
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
		return nil, fmt.Errorf("job controller: Client and Informers are required")
	}
	c := &Controller{client: cfg.Client, log: cfg.Logger, clock: cfg.Clock, events: cfg.Recorder}
	if c.events == nil {
		c.events = &record.FakeRecorder{}
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.log = c.log.With("controller", "job")
	if c.clock == nil {
		c.clock = clock.RealClock{}
	}
	c.exp = expectations.New(c.clock)
	c.queue = workqueue.NewTypedRateLimitingQueueWithConfig(
		workqueue.DefaultTypedControllerRateLimiter[string](),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: "job"})

	jobInf := cfg.Informers.Batch().V1().Jobs()
	podInf := cfg.Informers.Core().V1().Pods()
	c.jobLister = jobInf.Lister()
	c.podLister = podInf.Lister()
	if _, err := jobInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, n any) { c.enqueue(n) },
		DeleteFunc: c.enqueue,
	}); err != nil {
		return nil, fmt.Errorf("job controller: watch jobs: %w", err)
	}
	if _, err := podInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.addPod,
		UpdateFunc: c.updatePod,
		DeleteFunc: c.deletePod,
	}); err != nil {
		return nil, fmt.Errorf("job controller: watch pods: %w", err)
	}
	c.synced = []cache.InformerSynced{jobInf.Informer().HasSynced, podInf.Informer().HasSynced}
	return c, nil
}

// Run processes Jobs with workers goroutines until ctx is done. The informer
// factory must be started by the caller.
func (c *Controller) Run(ctx context.Context, workers int) error {
	return worker.Run(ctx, worker.Config{Name: "job", Queue: c.queue, Synced: c.synced,
		Workers: workers, Sync: c.sync, Logger: c.log})
}

// enqueueAfter syncs key again once d has passed on the controller's clock.
func (c *Controller) enqueueAfter(key string, d time.Duration) {
	if _, ok := c.clock.(clock.RealClock); ok {
		c.queue.AddAfter(key, d)
		return
	}
	if dc, ok := c.clock.(clock.WithDelayedExecution); ok {
		dc.AfterFunc(d, func() { c.queue.Add(key) })
		return
	}
	c.queue.AddAfter(key, d)
}

func (c *Controller) enqueue(obj any) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		return
	}
	c.queue.Add(key)
}

func key(j *batchv1.Job) string { return j.Namespace + "/" + j.Name }

// ownerOf returns the key of the Job that controls pod, if the cache has it.
func (c *Controller) ownerOf(pod *corev1.Pod) (string, bool) {
	ref := metav1.GetControllerOf(pod)
	if ref == nil || ref.Kind != "Job" {
		return "", false
	}
	j, err := c.jobLister.Jobs(pod.Namespace).Get(ref.Name)
	if err != nil || j.UID != ref.UID {
		return "", false
	}
	return key(j), true
}

func (c *Controller) addPod(obj any) {
	pod := obj.(*corev1.Pod)
	if pod.DeletionTimestamp != nil {
		c.deletePod(pod)
		return
	}
	if k, ok := c.ownerOf(pod); ok {
		c.exp.ObserveAdd(k, 1)
		c.queue.Add(k)
	}
}

func (c *Controller) updatePod(oldObj, newObj any) {
	old, cur := oldObj.(*corev1.Pod), newObj.(*corev1.Pod)
	if old.ResourceVersion != "" && old.ResourceVersion == cur.ResourceVersion {
		return
	}
	if cur.DeletionTimestamp != nil && old.DeletionTimestamp == nil {
		c.deletePod(cur)
		return
	}
	if k, ok := c.ownerOf(cur); ok {
		c.queue.Add(k)
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
	if k, ok := c.ownerOf(pod); ok {
		c.exp.ObserveDelete(k, pod.UID)
		c.queue.Add(k)
	}
}
