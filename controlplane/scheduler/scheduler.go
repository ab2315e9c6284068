// Package scheduler places pending pods on nodes: it filters nodes the pod
// cannot run on, scores the rest, assumes the pod on the best node in its
// in-memory snapshot and binds it through pods/binding in the background.
// Plugins follow kube-scheduler's default profile (a subset of it) and say
// why a pod does not fit in the same words.
//
// As kube-scheduler, it stops searching once it has found enough feasible
// nodes (the adaptive percentageOfNodesToScore: 10% of 5,000 nodes), starting
// each search where the last one stopped. Unlike it, ties go to the first
// node found rather than a random one, so decisions are reproducible, and
// there is no preemption (the message says it would not help) and no
// volume, pod affinity or topology-spread-constraint plugins. Pods with
// scheduling gates wait until the gates are gone.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	v1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/clock"
)

// DefaultSchedulerName is the schedulerName of pods that do not name one.
const DefaultSchedulerName = v1.DefaultSchedulerName

// Config is what New needs. Client and Informers are required.
type Config struct {
	Client kubernetes.Interface
	// Informers is the shared factory; the scheduler uses its pod and node
	// informers and starts the factory in Run.
	Informers informers.SharedInformerFactory
	// SchedulerName selects the pods this scheduler handles
	// (default "default-scheduler").
	SchedulerName string
	Logger        *slog.Logger
	// Recorder writes Events; nil means a broadcaster to Client's core/v1
	// Events, started in Run.
	Recorder record.EventRecorder
	Clock    clock.WithTicker
	// BindWorkers bounds the binds and status updates in flight (default 64).
	BindWorkers int
	// Registerer, if set, receives the scheduler's metrics.
	Registerer prometheus.Registerer
}

// Scheduler is the control loop; build it with New and start it with Run.
type Scheduler struct {
	cfg         Config
	log         *slog.Logger
	recorder    record.EventRecorder
	broadcaster record.EventBroadcaster
	podLister   corelisters.PodLister
	synced      []toolscache.InformerSynced

	cache   *cache
	queue   *queue
	metrics *metrics
	binds   chan struct{} // semaphore
	wg      sync.WaitGroup
}

// New registers the scheduler's informer handlers; call it before the
// factory is started, or at least before Run.
func New(cfg Config) (*Scheduler, error) {
	if cfg.Client == nil || cfg.Informers == nil {
		return nil, errors.New("scheduler: Client and Informers are required")
	}
	if cfg.SchedulerName == "" {
		cfg.SchedulerName = DefaultSchedulerName
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.BindWorkers <= 0 {
		cfg.BindWorkers = 64
	}
	s := &Scheduler{
		cfg:      cfg,
		log:      cfg.Logger.With("component", "scheduler"),
		recorder: cfg.Recorder,
		cache:    newCache(),
		queue:    newQueue(cfg.Clock),
		binds:    make(chan struct{}, cfg.BindWorkers),
	}
	m, err := newMetrics(cfg.Registerer, s.queue)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	if s.recorder == nil {
		s.broadcaster = record.NewBroadcaster()
		s.recorder = s.broadcaster.NewRecorder(scheme.Scheme, v1.EventSource{Component: cfg.SchedulerName})
	}
	pods := cfg.Informers.Core().V1().Pods()
	nodes := cfg.Informers.Core().V1().Nodes()
	s.podLister = pods.Lister()
	if _, err := pods.Informer().AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { s.onPod(nil, obj) },
		UpdateFunc: s.onPod,
		DeleteFunc: s.onPodDelete,
	}); err != nil {
		return nil, fmt.Errorf("add pod handler: %w", err)
	}
	if _, err := nodes.Informer().AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    s.onNodeAdd,
		UpdateFunc: s.onNodeUpdate,
		DeleteFunc: s.onNodeDelete,
	}); err != nil {
		return nil, fmt.Errorf("add node handler: %w", err)
	}
	s.synced = []toolscache.InformerSynced{pods.Informer().HasSynced, nodes.Informer().HasSynced}
	return s, nil
}

// Run schedules until ctx is done, then waits for binds in flight.
func (s *Scheduler) Run(ctx context.Context) error {
	if s.broadcaster != nil {
		s.broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: s.cfg.Client.CoreV1().Events("")})
		defer s.broadcaster.Shutdown()
	}
	s.cfg.Informers.Start(ctx.Done())
	if !toolscache.WaitForCacheSync(ctx.Done(), s.synced...) {
		return nil // ctx ended before the caches filled
	}
	s.log.Info("scheduler started", "schedulerName", s.cfg.SchedulerName)

	go func() {
		<-ctx.Done()
		s.queue.close()
	}()
	go func() {
		t := s.cfg.Clock.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C():
				s.queue.flush()
			}
		}
	}()
	for {
		key, cycle, ok := s.queue.pop()
		if !ok {
			break
		}
		s.scheduleOne(ctx, key, cycle)
	}
	s.wg.Wait()
	return nil
}

// responsible reports whether pod is a pending pod for this scheduler.
func (s *Scheduler) responsible(pod *v1.Pod) bool {
	return pod.Spec.NodeName == "" && pod.DeletionTimestamp == nil &&
		pod.Spec.SchedulerName == s.cfg.SchedulerName && len(pod.Spec.SchedulingGates) == 0 &&
		pod.Status.Phase != v1.PodSucceeded && pod.Status.Phase != v1.PodFailed
}

// counted reports whether a bound pod uses its node's resources.
func counted(pod *v1.Pod) bool {
	return pod.Spec.NodeName != "" && pod.Status.Phase != v1.PodSucceeded && pod.Status.Phase != v1.PodFailed
}

// statusOnly reports whether an update to a pending pod left what
// scheduling looks at unchanged.
func statusOnly(old, pod *v1.Pod) bool {
	return old.UID == pod.UID && equalStrings(old.Labels, pod.Labels) && apiequality.Semantic.DeepEqual(old.Spec, pod.Spec)
}

func podKey(pod *v1.Pod) string { return pod.Namespace + "/" + pod.Name }

func (s *Scheduler) onPod(oldObj, obj any) {
	pod, ok := obj.(*v1.Pod)
	if !ok {
		return
	}
	switch {
	case counted(pod):
		s.cache.addPod(pod)
		s.queue.remove(podKey(pod))
	case pod.Spec.NodeName != "": // finished: frees its node
		s.cache.removePod(pod.UID)
		s.queue.moveAll()
	case s.responsible(pod):
		if old, ok := oldObj.(*v1.Pod); ok && statusOnly(old, pod) {
			return // e.g. our own PodScheduled condition
		}
		s.queue.add(podKey(pod))
	default:
		s.queue.remove(podKey(pod))
	}
}

func (s *Scheduler) onPodDelete(obj any) {
	if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, ok := obj.(*v1.Pod)
	if !ok {
		return
	}
	s.queue.remove(podKey(pod))
	if s.cache.isAssumed(pod.UID) || pod.Spec.NodeName != "" {
		s.cache.removePod(pod.UID)
		s.queue.moveAll()
	}
}

func (s *Scheduler) onNodeAdd(obj any) {
	if node, ok := obj.(*v1.Node); ok {
		s.cache.setNode(node)
		s.queue.moveAll()
	}
}

func (s *Scheduler) onNodeUpdate(oldObj, obj any) {
	old, ok1 := oldObj.(*v1.Node)
	node, ok2 := obj.(*v1.Node)
	if !ok1 || !ok2 {
		return
	}
	s.cache.setNode(node)
	if nodeChangeMayHelp(old, node) {
		s.queue.moveAll()
	}
}

// nodeChangeMayHelp ignores heartbeat-only status updates.
func nodeChangeMayHelp(old, node *v1.Node) bool {
	return old.Spec.Unschedulable != node.Spec.Unschedulable ||
		!equalTaints(old.Spec.Taints, node.Spec.Taints) ||
		!equalStrings(old.Labels, node.Labels) ||
		!equalResources(old.Status.Allocatable, node.Status.Allocatable)
}

func equalTaints(a, b []v1.Taint) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Key != b[i].Key || a[i].Value != b[i].Value || a[i].Effect != b[i].Effect {
			return false
		}
	}
	return true
}

func equalStrings(a, b map[string]string) bool {
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

func equalResources(a, b v1.ResourceList) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w.Cmp(v) != 0 {
			return false
		}
	}
	return true
}

func (s *Scheduler) onNodeDelete(obj any) {
	if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	if node, ok := obj.(*v1.Node); ok {
		s.cache.removeNode(node.Name)
	}
}

// scheduleOne runs one scheduling attempt for the pod under key.
func (s *Scheduler) scheduleOne(ctx context.Context, key string, cycle int64) {
	ns, name, _ := toolscache.SplitMetaNamespaceKey(key)
	pod, err := s.podLister.Pods(ns).Get(name)
	if err != nil || !s.responsible(pod) || s.cache.isAssumed(pod.UID) {
		s.queue.done(key) // gone, bound, or already being bound
		return
	}
	start := s.cfg.Clock.Now()
	node, err := s.cache.schedule(pod)
	took := s.cfg.Clock.Since(start)
	if err != nil {
		var fe *fitError
		if !errors.As(err, &fe) {
			s.metrics.observe(resultError, took)
			s.queue.errorAttempt(key)
			return
		}
		s.metrics.observe(resultUnschedulable, took)
		s.queue.unschedulableAttempt(key, cycle)
		s.log.Debug("pod unschedulable", "pod", key, "reason", err.Error())
		s.async(func() { s.reportUnschedulable(ctx, pod, err.Error()) })
		return
	}
	s.metrics.observe(resultScheduled, took)
	s.async(func() { s.bind(ctx, key, pod, node) })
}

// async runs fn with at most BindWorkers at a time, without blocking the
// scheduling loop.
func (s *Scheduler) async(fn func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.binds <- struct{}{}
		defer func() { <-s.binds }()
		fn()
	}()
}

func (s *Scheduler) bind(ctx context.Context, key string, pod *v1.Pod, node string) {
	b := &v1.Binding{
		ObjectMeta: metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
		Target:     v1.ObjectReference{Kind: "Node", Name: node},
	}
	err := s.cfg.Client.CoreV1().Pods(pod.Namespace).Bind(ctx, b, metav1.CreateOptions{})
	if err != nil {
		s.cache.forget(pod.UID)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("bind pod", "pod", key, "node", node, "err", err)
		s.recorder.Eventf(pod, v1.EventTypeWarning, "FailedScheduling", "Binding rejected: %v", err)
		if apierrors.IsNotFound(err) {
			s.queue.done(key)
			return
		}
		s.queue.errorAttempt(key)
		s.queue.moveAll() // the forgotten pod freed room
		return
	}
	s.queue.done(key)
	s.recorder.Eventf(pod, v1.EventTypeNormal, "Scheduled", "Successfully assigned %s to %s", key, node)
}

// reportUnschedulable sets PodScheduled=False/Unschedulable with msg and
// records a FailedScheduling event.
func (s *Scheduler) reportUnschedulable(ctx context.Context, pod *v1.Pod, msg string) {
	s.recorder.Event(pod, v1.EventTypeWarning, "FailedScheduling", msg)
	cond := v1.PodCondition{Type: v1.PodScheduled, Status: v1.ConditionFalse, Reason: v1.PodReasonUnschedulable, Message: msg}
	for i := range pod.Status.Conditions {
		c := &pod.Status.Conditions[i]
		if c.Type == v1.PodScheduled && c.Status == cond.Status && c.Reason == cond.Reason && c.Message == cond.Message {
			return
		}
	}
	podsAPI := s.cfg.Client.CoreV1().Pods(pod.Namespace)
	cur := pod
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		upd := cur.DeepCopy()
		setUnschedulable(upd, cond, metav1.NewTime(s.cfg.Clock.Now()))
		_, err := podsAPI.UpdateStatus(ctx, upd, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			// The informer's copy was stale: read the pod again.
			fresh, gerr := podsAPI.Get(ctx, pod.Name, metav1.GetOptions{})
			if gerr != nil {
				return gerr
			}
			if fresh.UID != pod.UID || fresh.Spec.NodeName != "" {
				return nil // replaced or bound meanwhile
			}
			cur = fresh
		}
		return err
	})
	if err != nil && ctx.Err() == nil && !apierrors.IsNotFound(err) {
		s.log.Warn("update pod status", "pod", podKey(pod), "err", err)
	}
}

// setUnschedulable puts cond in pod's status as its PodScheduled condition,
// keeping the transition time when the status does not change.
func setUnschedulable(pod *v1.Pod, cond v1.PodCondition, now metav1.Time) {
	cond.LastProbeTime = now
	cond.LastTransitionTime = now
	for i := range pod.Status.Conditions {
		c := &pod.Status.Conditions[i]
		if c.Type != v1.PodScheduled {
			continue
		}
		if c.Status == cond.Status {
			cond.LastTransitionTime = c.LastTransitionTime
		}
		*c = cond
		return
	}
	pod.Status.Conditions = append(pod.Status.Conditions, cond)
}
