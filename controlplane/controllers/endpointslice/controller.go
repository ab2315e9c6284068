// Package endpointslice keeps EndpointSlices (and, for older clients, core/v1
// Endpoints) in step with the pods selected by each Service.
package endpointslice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
)

// EndpointsManagedBy is the value of the endpoints.kubernetes.io/managed-by
// label on the Endpoints objects this controller writes.
const (
	LabelEndpointsManagedBy = "endpoints.kubernetes.io/managed-by"
	EndpointsManagedBy      = "endpoint-controller.rudder.io"
)

// DefaultMaxEndpointsPerSlice is upstream's default slice capacity.
const DefaultMaxEndpointsPerSlice = 100

// Config configures a Controller.
type Config struct {
	Client    kubernetes.Interface
	Informers informers.SharedInformerFactory
	// MaxEndpointsPerSlice caps endpoints per slice (default 100).
	MaxEndpointsPerSlice int
	Logger               *slog.Logger
	// Clock stamps trigger times (default: the real clock).
	Clock clock.PassiveClock
}

// Controller is the EndpointSlice (and Endpoints) controller.
type Controller struct {
	client kubernetes.Interface
	max    int
	log    *slog.Logger
	clock  clock.PassiveClock

	services  corelisters.ServiceLister
	pods      corelisters.PodLister
	slices    discoverylisters.EndpointSliceLister
	endpoints corelisters.EndpointsLister
	synced    []cache.InformerSynced

	queue    workqueue.TypedRateLimitingInterface[string]
	expect   *expectations
	triggers *triggerTimes
}

// New builds a controller and registers its event handlers on the informers;
// start the factory before or after Run.
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil || cfg.Informers == nil {
		return nil, errors.New("endpointslice: Client and Informers are required")
	}
	c := &Controller{
		client: cfg.Client,
		max:    cfg.MaxEndpointsPerSlice,
		log:    cfg.Logger,
		clock:  cfg.Clock,
	}
	if c.max <= 0 {
		c.max = DefaultMaxEndpointsPerSlice
	}
	if c.max > 1000 {
		return nil, fmt.Errorf("endpointslice: MaxEndpointsPerSlice %d above the API limit of 1000", c.max)
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.log = c.log.With("controller", "endpointslice")
	if c.clock == nil {
		c.clock = clock.RealClock{}
	}
	c.queue = workqueue.NewTypedRateLimitingQueueWithConfig(
		workqueue.NewTypedItemExponentialFailureRateLimiter[string](5*time.Millisecond, 100*time.Second),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: "endpointslice"})
	c.expect = newExpectations(c.clock)
	c.triggers = &triggerTimes{pending: map[string]time.Time{}}

	svcInf := cfg.Informers.Core().V1().Services()
	podInf := cfg.Informers.Core().V1().Pods()
	sliceInf := cfg.Informers.Discovery().V1().EndpointSlices()
	epInf := cfg.Informers.Core().V1().Endpoints()
	c.services, c.pods, c.slices, c.endpoints = svcInf.Lister(), podInf.Lister(), sliceInf.Lister(), epInf.Lister()

	handlers := []struct {
		inf cache.SharedIndexInformer
		h   cache.ResourceEventHandler
	}{
		{svcInf.Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    c.onService,
			UpdateFunc: func(_, obj any) { c.onService(obj) },
			DeleteFunc: c.onService,
		}},
		{podInf.Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { c.onPod(nil, obj) },
			UpdateFunc: c.onPod,
			DeleteFunc: func(obj any) { c.onPod(nil, obj) },
		}},
		{sliceInf.Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    c.onSlice,
			UpdateFunc: func(_, obj any) { c.onSlice(obj) },
			DeleteFunc: c.onSliceDelete,
		}},
		{epInf.Informer(), cache.ResourceEventHandlerFuncs{
			UpdateFunc: func(_, obj any) { c.onEndpoints(obj) },
			DeleteFunc: c.onEndpoints,
		}},
	}
	for _, h := range handlers {
		if _, err := h.inf.AddEventHandler(h.h); err != nil {
			return nil, fmt.Errorf("endpointslice: add event handler: %w", err)
		}
		c.synced = append(c.synced, h.inf.HasSynced)
	}
	return c, nil
}

// Run processes services with the given number of workers until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) error {
	defer utilruntime.HandleCrash()
	defer c.queue.ShutDown()
	c.log.Info("starting", "workers", workers)
	defer c.log.Info("stopped")
	if !cache.WaitForCacheSync(ctx.Done(), c.synced...) {
		return fmt.Errorf("endpointslice: caches did not sync: %w", ctx.Err())
	}
	if workers < 1 {
		workers = 1
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() { wait.UntilWithContext(ctx, c.worker, time.Second) })
	}
	<-ctx.Done()
	c.queue.ShutDown()
	wg.Wait()
	return nil
}

func (c *Controller) worker(ctx context.Context) {
	for c.processNext(ctx) {
	}
}

func (c *Controller) processNext(ctx context.Context) bool {
	key, quit := c.queue.Get()
	if quit {
		return false
	}
	defer c.queue.Done(key)
	err := c.sync(ctx, key)
	if err == nil {
		c.queue.Forget(key)
		return true
	}
	switch {
	case errors.Is(err, errStale):
		c.log.Debug("informer cache behind own writes, retrying", "service", key)
	case apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err):
		// A write raced the informer cache; the retry sees the newer state.
		c.log.Debug("sync service: cache behind, retrying", "service", key, "err", err)
	default:
		c.log.Error("sync service", "service", key, "err", err, "retries", c.queue.NumRequeues(key))
	}
	c.queue.AddRateLimited(key)
	return true
}

// --- event handlers ---

func (c *Controller) enqueue(key string) { c.queue.Add(key) }

func (c *Controller) onService(obj any) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		return
	}
	c.triggers.observe(key, c.clock.Now())
	c.enqueue(key)
}

func (c *Controller) onPod(oldObj, obj any) {
	pod := podOf(obj)
	if pod == nil {
		return
	}
	var old *corev1.Pod
	if oldObj != nil {
		old = podOf(oldObj)
		if old != nil && old.ResourceVersion != "" && old.ResourceVersion == pod.ResourceVersion {
			return // periodic resync
		}
		if old != nil && !podChanged(old, pod) {
			return
		}
	}
	now := c.clock.Now()
	for _, key := range c.servicesFor(pod, old) {
		c.triggers.observe(key, now)
		c.enqueue(key)
	}
}

func podOf(obj any) *corev1.Pod {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, _ := obj.(*corev1.Pod)
	return pod
}

// podChanged reports whether an update matters to endpoints.
func podChanged(old, cur *corev1.Pod) bool {
	return !labels.Equals(old.Labels, cur.Labels) ||
		old.Status.PodIP != cur.Status.PodIP ||
		podIPv4(old) != podIPv4(cur) ||
		podReady(old) != podReady(cur) ||
		(old.DeletionTimestamp == nil) != (cur.DeletionTimestamp == nil) ||
		old.Status.Phase != cur.Status.Phase ||
		old.Spec.NodeName != cur.Spec.NodeName ||
		old.Spec.Hostname != cur.Spec.Hostname ||
		old.Spec.Subdomain != cur.Spec.Subdomain
}

// servicesFor returns the keys of the services in the pod's namespace whose
// selector matches the pod now or (for old) before.
func (c *Controller) servicesFor(pod, old *corev1.Pod) []string {
	svcs, err := c.services.Services(pod.Namespace).List(labels.Everything())
	if err != nil {
		return nil
	}
	var keys []string
	for _, svc := range svcs {
		if svc.Spec.Selector == nil {
			continue
		}
		sel := labels.SelectorFromValidatedSet(svc.Spec.Selector)
		if sel.Matches(labels.Set(pod.Labels)) || (old != nil && sel.Matches(labels.Set(old.Labels))) {
			keys = append(keys, svc.Namespace+"/"+svc.Name)
		}
	}
	return keys
}

func (c *Controller) onSlice(obj any) {
	s, ok := obj.(*discovery.EndpointSlice)
	if !ok || s.Labels[discovery.LabelManagedBy] != ManagedBy || s.Labels[discovery.LabelServiceName] == "" {
		return
	}
	c.enqueue(s.Namespace + "/" + s.Labels[discovery.LabelServiceName])
}

func (c *Controller) onSliceDelete(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	s, ok := obj.(*discovery.EndpointSlice)
	if !ok || s.Labels[discovery.LabelManagedBy] != ManagedBy || s.Labels[discovery.LabelServiceName] == "" {
		return
	}
	key := s.Namespace + "/" + s.Labels[discovery.LabelServiceName]
	c.expect.observedDelete(key, s)
	c.enqueue(key)
}

// onEndpoints repairs hand edits and deletions of Endpoints this controller writes.
func (c *Controller) onEndpoints(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	ep, ok := obj.(*corev1.Endpoints)
	if !ok || ep.Labels[LabelEndpointsManagedBy] != EndpointsManagedBy {
		return
	}
	c.enqueue(ep.Namespace + "/" + ep.Name)
}

// --- sync ---

// errStale says the informer cache has not yet seen this controller's own
// slice writes; syncing now could create duplicates.
var errStale = errors.New("endpointslice cache is stale")

func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	if !c.expect.satisfied(key, func(name string) *discovery.EndpointSlice {
		s, _ := c.slices.EndpointSlices(ns).Get(name)
		return s
	}) {
		return errStale
	}
	svc, err := c.services.Services(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.triggers.take(key)
		return c.deleteAll(ctx, ns, name, true)
	}
	if err != nil {
		return fmt.Errorf("get service %s: %w", key, err)
	}
	if svc.Spec.Selector == nil || svc.Spec.Type == corev1.ServiceTypeExternalName {
		// Not ours to fill: drop any slices we made earlier, leave Endpoints.
		c.triggers.take(key)
		return c.deleteAll(ctx, ns, name, false)
	}
	pods, err := c.pods.Pods(ns).List(labels.SelectorFromValidatedSet(svc.Spec.Selector))
	if err != nil {
		return fmt.Errorf("list pods for %s: %w", key, err)
	}
	existing, err := c.managedSlices(ns, name)
	if err != nil {
		return err
	}
	// The trigger time is the earliest change seen since the last write.
	// A sync can see a change before its event handler has recorded it (the
	// cache is updated first), so without one the change happened by now.
	trigger, ok := c.triggers.take(key)
	if !ok {
		trigger = c.clock.Now()
	}
	p := reconcile(svc, existing, desiredGroups(svc, pods), c.max)
	var errs []error
	if err := c.apply(ctx, key, p, trigger); err != nil {
		errs = append(errs, err)
	}
	if err := c.syncEndpoints(ctx, svc, pods, trigger); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 && ok {
		c.triggers.observe(key, trigger) // keep it for the retry
	}
	return errors.Join(errs...)
}

func (c *Controller) managedSlices(ns, svcName string) ([]*discovery.EndpointSlice, error) {
	sel := labels.SelectorFromSet(labels.Set{discovery.LabelServiceName: svcName, discovery.LabelManagedBy: ManagedBy})
	slices, err := c.slices.EndpointSlices(ns).List(sel)
	if err != nil {
		return nil, fmt.Errorf("list endpointslices of %s/%s: %w", ns, svcName, err)
	}
	return slices, nil
}

// deleteAll removes the service's managed slices and, if endpoints is set, the
// Endpoints object this controller wrote for it.
func (c *Controller) deleteAll(ctx context.Context, ns, name string, endpoints bool) error {
	slices, err := c.managedSlices(ns, name)
	if err != nil {
		return err
	}
	key := ns + "/" + name
	var errs []error
	for _, s := range slices {
		if err := c.deleteSlice(ctx, key, s); err != nil {
			errs = append(errs, err)
		}
	}
	if endpoints {
		ep, err := c.endpoints.Endpoints(ns).Get(name)
		if err == nil && ep.Labels[LabelEndpointsManagedBy] == EndpointsManagedBy {
			err := c.client.CoreV1().Endpoints(ns).Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &ep.UID}})
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
				errs = append(errs, fmt.Errorf("delete endpoints %s: %w", key, err))
			}
		}
	}
	return errors.Join(errs...)
}

func (c *Controller) deleteSlice(ctx context.Context, key string, s *discovery.EndpointSlice) error {
	err := c.client.DiscoveryV1().EndpointSlices(s.Namespace).Delete(ctx, s.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &s.UID}})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete endpointslice %s/%s: %w", s.Namespace, s.Name, err)
	}
	c.expect.expectDelete(key, s)
	return nil
}

// apply writes a plan: updates and creates first (so that endpoints moving
// between slices are never missing), then deletes.
func (c *Controller) apply(ctx context.Context, key string, p plan, trigger time.Time) error {
	if p.empty() {
		return nil
	}
	stamp := func(s *discovery.EndpointSlice) {
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations[corev1.EndpointsLastChangeTriggerTime] = trigger.UTC().Format(time.RFC3339Nano)
	}
	api := c.client.DiscoveryV1()
	var errs []error
	for _, s := range p.update {
		stamp(s)
		out, err := api.EndpointSlices(s.Namespace).Update(ctx, s, metav1.UpdateOptions{})
		if err != nil {
			errs = append(errs, fmt.Errorf("update endpointslice %s/%s: %w", s.Namespace, s.Name, err))
			continue
		}
		c.expect.expectWrite(key, out)
	}
	for _, s := range p.create {
		stamp(s)
		out, err := api.EndpointSlices(s.Namespace).Create(ctx, s, metav1.CreateOptions{})
		if err != nil {
			errs = append(errs, fmt.Errorf("create endpointslice for %s: %w", key, err))
			continue
		}
		c.expect.expectWrite(key, out)
	}
	if len(errs) > 0 {
		return errors.Join(errs...) // keep the old slices until the new ones exist
	}
	for _, s := range p.delete {
		if err := c.deleteSlice(ctx, key, s); err != nil {
			errs = append(errs, err)
		}
	}
	if n := len(p.create) + len(p.update) + len(p.delete); n > 0 {
		c.log.Debug("synced endpointslices", "service", key, "created", len(p.create), "updated", len(p.update), "deleted", len(p.delete))
	}
	return errors.Join(errs...)
}

// syncEndpoints keeps the core/v1 Endpoints named like the service in step.
func (c *Controller) syncEndpoints(ctx context.Context, svc *corev1.Service, pods []*corev1.Pod, trigger time.Time) error {
	subsets, truncated := desiredSubsets(svc, pods)
	want := &corev1.Endpoints{
		ObjectMeta: metav1.ObjectMeta{Name: svc.Name, Namespace: svc.Namespace, Labels: map[string]string{}},
		Subsets:    subsets,
	}
	for k, v := range svc.Labels {
		want.Labels[k] = v
	}
	want.Labels[LabelEndpointsManagedBy] = EndpointsManagedBy
	// Slices are written by this controller already: the mirroring
	// controller must not copy these Endpoints back into slices.
	want.Labels[discovery.LabelSkipMirror] = "true"
	if svc.Spec.ClusterIP == corev1.ClusterIPNone {
		want.Labels[corev1.IsHeadlessService] = ""
	} else {
		delete(want.Labels, corev1.IsHeadlessService)
	}

	cur, err := c.endpoints.Endpoints(svc.Namespace).Get(svc.Name)
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("get endpoints %s/%s: %w", svc.Namespace, svc.Name, err)
	}
	api := c.client.CoreV1().Endpoints(svc.Namespace)
	annotate := func(ep *corev1.Endpoints, base map[string]string) {
		ep.Annotations = map[string]string{}
		for k, v := range base {
			ep.Annotations[k] = v
		}
		ep.Annotations[corev1.EndpointsLastChangeTriggerTime] = trigger.UTC().Format(time.RFC3339Nano)
		if truncated {
			ep.Annotations[corev1.EndpointsOverCapacity] = "truncated"
		} else {
			delete(ep.Annotations, corev1.EndpointsOverCapacity)
		}
	}
	if cur == nil {
		annotate(want, nil)
		if _, err := api.Create(ctx, want, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create endpoints %s/%s: %w", svc.Namespace, svc.Name, err)
		}
		return nil
	}
	_, wasTruncated := cur.Annotations[corev1.EndpointsOverCapacity]
	if endpointsEqual(cur, want) && truncated == wasTruncated {
		return nil
	}
	u := cur.DeepCopy()
	u.Labels = want.Labels
	u.Subsets = want.Subsets
	annotate(u, cur.Annotations)
	if _, err := api.Update(ctx, u, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("update endpoints %s/%s: %w", svc.Namespace, svc.Name, err)
	}
	return nil
}
