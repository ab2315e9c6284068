// Package cronjob is the CronJob controller: it creates a Job from a
// CronJob's jobTemplate at each time its five-field schedule (parsed by
// registry.ParseCronSchedule) comes due, honouring suspend,
// startingDeadlineSeconds and concurrencyPolicy (Allow, Forbid, Replace),
// keeps status.active, lastScheduleTime and lastSuccessfulTime, and deletes
// finished Jobs beyond the history limits.
//
// Jobs are named <cronjob>-<scheduled time in unix minutes> and annotated
// with batch.kubernetes.io/cronjob-scheduled-timestamp, as upstream, so a
// repeated sync cannot start one schedule time twice. Without spec.timeZone
// the schedule is read in the controller's local time zone, as upstream.
package cronjob

import (
	"context"
	"fmt"
	"log/slog"
	"rudder/controlplane/controllers/worker"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
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
	// Clock decides when schedules are due; the re-sync at the next
	// schedule time runs on it too (through AfterFunc), so a fake clock
	// drives the controller in tests. nil: the real clock.
	Clock clock.Clock
	// Recorder receives the events (SuccessfulCreate, SuccessfulDelete,
	// SawCompletedJob, JobAlreadyActive, MissSchedule, FailedCreate,
	// InvalidSchedule, UnknownTimeZone); nil: none.
	Recorder record.EventRecorder
}

// Controller is the CronJob controller.
type Controller struct {
	client    kubernetes.Interface
	log       *slog.Logger
	clock     clock.Clock
	cjLister  batchlisters.CronJobLister
	jobLister batchlisters.JobLister
	synced    []cache.InformerSynced
	queue     workqueue.TypedRateLimitingInterface[string]
	events    record.EventRecorder
}

// New builds the controller and registers its informer handlers; call it
// before Informers.Start.
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil || cfg.Informers == nil {
		return nil, fmt.Errorf("cronjob controller: Client and Informers are required")
	}
	c := &Controller{client: cfg.Client, log: cfg.Logger, clock: cfg.Clock, events: cfg.Recorder}
	if c.events == nil {
		c.events = &record.FakeRecorder{}
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.log = c.log.With("controller", "cronjob")
	if c.clock == nil {
		c.clock = clock.RealClock{}
	}
	c.queue = workqueue.NewTypedRateLimitingQueueWithConfig(
		workqueue.DefaultTypedControllerRateLimiter[string](),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: "cronjob"})

	cjInf := cfg.Informers.Batch().V1().CronJobs()
	jobInf := cfg.Informers.Batch().V1().Jobs()
	c.cjLister = cjInf.Lister()
	c.jobLister = jobInf.Lister()
	if _, err := cjInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, n any) { c.enqueue(n) },
		DeleteFunc: c.enqueue,
	}); err != nil {
		return nil, fmt.Errorf("cronjob controller: watch cronjobs: %w", err)
	}
	if _, err := jobInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.jobChanged,
		UpdateFunc: func(_, n any) { c.jobChanged(n) },
		DeleteFunc: c.jobChanged,
	}); err != nil {
		return nil, fmt.Errorf("cronjob controller: watch jobs: %w", err)
	}
	c.synced = []cache.InformerSynced{cjInf.Informer().HasSynced, jobInf.Informer().HasSynced}
	return c, nil
}

// Run processes CronJobs with workers goroutines until ctx is done. The
// informer factory must be started by the caller.
func (c *Controller) Run(ctx context.Context, workers int) error {
	return worker.Run(ctx, worker.Config{Name: "cronjob", Queue: c.queue, Synced: c.synced,
		Workers: workers, Sync: c.sync, Logger: c.log})
}

// enqueueAt syncs key again at time at on the controller's clock.
func (c *Controller) enqueueAt(key string, at time.Time) {
	d := at.Sub(c.clock.Now())
	if d <= 0 {
		c.queue.Add(key)
		return
	}
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

func (c *Controller) jobChanged(obj any) {
	j, ok := obj.(*batchv1.Job)
	if !ok {
		tomb, ok := obj.(cache.DeletedFinalStateUnknown)
		if !ok {
			return
		}
		if j, ok = tomb.Obj.(*batchv1.Job); !ok {
			return
		}
	}
	ref := metav1.GetControllerOf(j)
	if ref == nil || ref.Kind != "CronJob" {
		return
	}
	c.queue.Add(j.Namespace + "/" + ref.Name)
}
