// Package nodelifecycle watches node heartbeats (the Leases in
// kube-node-lease and the Ready condition's heartbeat) and acts on nodes
// that stop sending them, as kube-controller-manager's node lifecycle
// controller does:
//
//   - a node not heard from within the grace period has its conditions set
//     to Unknown (reason NodeStatusUnknown);
//   - a node whose Ready condition is Unknown gets the
//     node.kubernetes.io/unreachable taints, one whose Ready is False the
//     node.kubernetes.io/not-ready taints (NoSchedule and NoExecute); a node
//     that is Ready again loses them;
//   - pods on a node that is not Ready are marked Ready=False, so that
//     endpoints drop them;
//   - pods on a node with a NoExecute taint are deleted once their
//     toleration of it runs out (at once without one).
//
// The controller works in passes over its caches, every MonitorPeriod, so
// that a test can drive it with a fake clock.
package nodelifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	coordlisters "k8s.io/client-go/listers/coordination/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/retry"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
)

// Defaults, as kube-controller-manager's.
const (
	DefaultGracePeriod   = 40 * time.Second
	DefaultMonitorPeriod = 5 * time.Second
	// LeaseNamespace holds the nodes' heartbeat Leases.
	LeaseNamespace = corev1.NamespaceNodeLease

	reasonUnknown      = "NodeStatusUnknown"
	messageUnknown     = "Kubelet stopped posting node status."
	reasonNeverUpdated = "NodeStatusNeverUpdated"
	messageNever       = "Kubelet never posted node status."

	podIndexByNode = "spec.nodeName"
)

// Config configures the controller.
type Config struct {
	Client    kubernetes.Interface
	Informers informers.SharedInformerFactory
	// GracePeriod is how long a node may go without a heartbeat before it
	// is considered unreachable (--node-monitor-grace-period).
	GracePeriod time.Duration
	// MonitorPeriod is how often nodes are checked.
	MonitorPeriod time.Duration
	Clock         clock.WithTicker
	// Recorder, if set, records the Events (NodeNotReady,
	// TaintManagerEviction); nil writes them through Client.
	Recorder record.EventRecorder
	Logger   *slog.Logger
}

// Controller is the node lifecycle controller.
type Controller struct {
	client  kubernetes.Interface
	nodes   corelisters.NodeLister
	leases  coordlisters.LeaseLister
	pods    cache.Indexer
	synced  []cache.InformerSynced
	grace   time.Duration
	period  time.Duration
	clock   clock.WithTicker
	rec     record.EventRecorder
	log     *slog.Logger
	mu      sync.Mutex
	health  map[string]*health
	evicted map[types.UID]bool
}

// health is what the controller last saw of a node's heartbeats, and when
// (on its own clock, so that the nodes' clocks do not matter).
type health struct {
	probe       time.Time // last time a heartbeat was seen to change
	leaseRenew  metav1.MicroTime
	heartbeat   metav1.Time
	seenLease   bool
	seenReadyHB bool
}

// New registers the informers the controller needs on cfg.Informers; start
// the factory and call Run.
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil || cfg.Informers == nil {
		return nil, errors.New("node lifecycle: a client and an informer factory are required")
	}
	if cfg.GracePeriod == 0 {
		cfg.GracePeriod = DefaultGracePeriod
	}
	if cfg.MonitorPeriod == 0 {
		cfg.MonitorPeriod = DefaultMonitorPeriod
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	nodes := cfg.Informers.Core().V1().Nodes()
	leases := cfg.Informers.Coordination().V1().Leases()
	pods := cfg.Informers.Core().V1().Pods()
	err := pods.Informer().AddIndexers(cache.Indexers{podIndexByNode: func(obj any) ([]string, error) {
		p, ok := obj.(*corev1.Pod)
		if !ok || p.Spec.NodeName == "" {
			return nil, nil
		}
		return []string{p.Spec.NodeName}, nil
	}})
	if err != nil {
		return nil, fmt.Errorf("node lifecycle: pod index: %w", err)
	}
	return &Controller{
		client:  cfg.Client,
		nodes:   nodes.Lister(),
		leases:  leases.Lister(),
		pods:    pods.Informer().GetIndexer(),
		synced:  []cache.InformerSynced{nodes.Informer().HasSynced, leases.Informer().HasSynced, pods.Informer().HasSynced},
		grace:   cfg.GracePeriod,
		period:  cfg.MonitorPeriod,
		clock:   cfg.Clock,
		rec:     cfg.Recorder,
		log:     cfg.Logger.With("controller", "nodelifecycle"),
		health:  map[string]*health{},
		evicted: map[types.UID]bool{},
	}, nil
}

// Run waits for the caches and checks the nodes every MonitorPeriod until
// ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	if !cache.WaitForCacheSync(ctx.Done(), c.synced...) {
		return fmt.Errorf("node lifecycle: wait for caches: %w", ctx.Err())
	}
	c.log.Info("started", "gracePeriod", c.grace, "monitorPeriod", c.period)
	t := c.clock.NewTicker(c.period)
	defer t.Stop()
	for {
		if err := c.Sync(ctx); err != nil {
			c.log.Warn("node lifecycle pass", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C():
		}
	}
}

// Sync makes one pass over every node: conditions, taints, pods.
func (c *Controller) Sync(ctx context.Context) error {
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return fmt.Errorf("list nodes: %w", err)
	}
	var errs []error
	seen := map[string]bool{}
	for _, n := range nodes {
		seen[n.Name] = true
		if err := c.syncNode(ctx, n); err != nil {
			errs = append(errs, fmt.Errorf("node %s: %w", n.Name, err))
		}
	}
	c.mu.Lock()
	for name := range c.health {
		if !seen[name] {
			delete(c.health, name)
		}
	}
	c.mu.Unlock()
	c.forgetGone()
	return errors.Join(errs...)
}

func (c *Controller) syncNode(ctx context.Context, n *corev1.Node) error {
	node, err := c.monitorHealth(ctx, n)
	if err != nil {
		return err
	}
	node, err = c.syncTaints(ctx, node)
	if err != nil {
		return err
	}
	if ready := readyStatus(node); ready != corev1.ConditionTrue {
		if err := c.markPodsNotReady(ctx, node.Name); err != nil {
			return err
		}
	}
	return c.evictPods(ctx, node)
}

// monitorHealth notes heartbeats and, once none has come for the grace
// period, sets the node's conditions to Unknown.
func (c *Controller) monitorHealth(ctx context.Context, n *corev1.Node) (*corev1.Node, error) {
	now := c.clock.Now()
	lease, err := c.leases.Leases(LeaseNamespace).Get(n.Name)
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("get lease: %w", err)
	}
	ready := condition(n, corev1.NodeReady)

	c.mu.Lock()
	h := c.health[n.Name]
	if h == nil {
		// First sight: the node gets a full grace period from now.
		h = &health{probe: now}
		c.health[n.Name] = h
	}
	if lease != nil && lease.Spec.RenewTime != nil {
		if !h.seenLease || !lease.Spec.RenewTime.Equal(&h.leaseRenew) {
			h.probe, h.leaseRenew, h.seenLease = now, *lease.Spec.RenewTime, true
		}
	}
	if ready != nil && ready.Reason != reasonUnknown {
		if !h.seenReadyHB || !ready.LastHeartbeatTime.Equal(&h.heartbeat) {
			h.probe, h.heartbeat, h.seenReadyHB = now, ready.LastHeartbeatTime, true
		}
	}
	stale := now.After(h.probe.Add(c.grace))
	c.mu.Unlock()

	if !stale || (ready != nil && ready.Status == corev1.ConditionUnknown) {
		return n, nil
	}
	c.log.Info("node stopped posting status", "node", n.Name, "gracePeriod", c.grace)
	var out *corev1.Node
	err = retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		cur, err := c.client.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		setUnknown(cur, metav1.NewTime(now))
		out, err = c.client.CoreV1().Nodes().UpdateStatus(ctx, cur, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("set conditions unknown: %w", err)
	}
	c.event(ctx, nodeRef(n.Name), "node-controller", "NodeNotReady", "Node "+n.Name+" status is now: NodeNotReady")
	return out, nil
}

// setUnknown sets the Ready condition (added if missing) and the pressure
// conditions the node reports to Unknown.
func setUnknown(n *corev1.Node, now metav1.Time) {
	if condition(n, corev1.NodeReady) == nil {
		n.Status.Conditions = append(n.Status.Conditions, corev1.NodeCondition{
			Type: corev1.NodeReady, Status: corev1.ConditionUnknown, Reason: reasonNeverUpdated, Message: messageNever,
			LastHeartbeatTime: n.CreationTimestamp, LastTransitionTime: now,
		})
	}
	for i := range n.Status.Conditions {
		cond := &n.Status.Conditions[i]
		switch cond.Type {
		case corev1.NodeReady, corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure:
		default:
			continue
		}
		if cond.Status == corev1.ConditionUnknown {
			continue
		}
		cond.Status, cond.Reason, cond.Message, cond.LastTransitionTime = corev1.ConditionUnknown, reasonUnknown, messageUnknown, now
	}
}

func condition(n *corev1.Node, t corev1.NodeConditionType) *corev1.NodeCondition {
	for i := range n.Status.Conditions {
		if n.Status.Conditions[i].Type == t {
			return &n.Status.Conditions[i]
		}
	}
	return nil
}

func readyStatus(n *corev1.Node) corev1.ConditionStatus {
	if cond := condition(n, corev1.NodeReady); cond != nil {
		return cond.Status
	}
	return corev1.ConditionUnknown
}

// lifecycleTaints are the taints this controller owns.
var lifecycleTaints = []string{corev1.TaintNodeUnreachable, corev1.TaintNodeNotReady}

// wantTaints returns the lifecycle taint key a node should carry, or "".
// A node that never posted a Ready condition is new, not unreachable,
// until monitorHealth says otherwise.
func wantTaint(n *corev1.Node) string {
	cond := condition(n, corev1.NodeReady)
	switch {
	case cond == nil:
		return ""
	case cond.Status == corev1.ConditionUnknown:
		return corev1.TaintNodeUnreachable
	case cond.Status == corev1.ConditionFalse:
		return corev1.TaintNodeNotReady
	}
	return ""
}

// syncTaints adds the taints that match the node's readiness and removes
// the others; a NoExecute taint keeps its timeAdded while it stays.
func (c *Controller) syncTaints(ctx context.Context, n *corev1.Node) (*corev1.Node, error) {
	want := wantTaint(n)
	if !taintsDiffer(n.Spec.Taints, want) {
		return n, nil
	}
	var out *corev1.Node
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		cur, err := c.client.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		want := wantTaint(cur)
		if !taintsDiffer(cur.Spec.Taints, want) {
			out = cur
			return nil
		}
		cur.Spec.Taints = applyTaints(cur.Spec.Taints, want, metav1.NewTime(c.clock.Now()))
		out, err = c.client.CoreV1().Nodes().Update(ctx, cur, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update taints: %w", err)
	}
	if want == "" {
		c.log.Info("node is ready again; lifecycle taints removed", "node", n.Name)
	} else {
		c.log.Info("node tainted", "node", n.Name, "taint", want)
	}
	return out, nil
}

func taintsDiffer(have []corev1.Taint, want string) bool {
	for _, key := range lifecycleTaints {
		for _, effect := range []corev1.TaintEffect{corev1.TaintEffectNoSchedule, corev1.TaintEffectNoExecute} {
			if hasTaint(have, key, effect) != (key == want) {
				return true
			}
		}
	}
	return false
}

func hasTaint(ts []corev1.Taint, key string, effect corev1.TaintEffect) bool {
	return slices.ContainsFunc(ts, func(t corev1.Taint) bool { return t.Key == key && t.Effect == effect })
}

func applyTaints(have []corev1.Taint, want string, now metav1.Time) []corev1.Taint {
	out := slices.DeleteFunc(slices.Clone(have), func(t corev1.Taint) bool {
		return slices.Contains(lifecycleTaints, t.Key) && t.Key != want
	})
	if want == "" {
		return out
	}
	if !hasTaint(out, want, corev1.TaintEffectNoSchedule) {
		out = append(out, corev1.Taint{Key: want, Effect: corev1.TaintEffectNoSchedule})
	}
	if !hasTaint(out, want, corev1.TaintEffectNoExecute) {
		out = append(out, corev1.Taint{Key: want, Effect: corev1.TaintEffectNoExecute, TimeAdded: &now})
	}
	return out
}

func (c *Controller) podsOn(node string) []*corev1.Pod {
	objs, err := c.pods.ByIndex(podIndexByNode, node)
	if err != nil {
		return nil
	}
	out := make([]*corev1.Pod, 0, len(objs))
	for _, o := range objs {
		if p, ok := o.(*corev1.Pod); ok {
			out = append(out, p)
		}
	}
	return out
}

// markPodsNotReady sets Ready=False on the node's pods that still say
// True, so that endpoint controllers drop them.
func (c *Controller) markPodsNotReady(ctx context.Context, node string) error {
	var errs []error
	for _, p := range c.podsOn(node) {
		if p.DeletionTimestamp != nil || isTerminal(p) || !podReady(p) {
			continue
		}
		marked, err := c.markPodNotReady(ctx, p)
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("mark pod %s/%s not ready: %w", p.Namespace, p.Name, err))
			continue
		}
		if marked {
			c.log.Info("marked pod not ready", "pod", p.Namespace+"/"+p.Name, "node", node)
		}
	}
	return errors.Join(errs...)
}

// markPodNotReady writes Ready=False into p's status, reading it again if
// the cached copy is stale.
func (c *Controller) markPodNotReady(ctx context.Context, p *corev1.Pod) (bool, error) {
	marked := false
	cur := p.DeepCopy()
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		if cur == nil {
			fresh, err := c.client.CoreV1().Pods(p.Namespace).Get(ctx, p.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if fresh.UID != p.UID || fresh.DeletionTimestamp != nil || !podReady(fresh) {
				return nil
			}
			cur = fresh
		}
		now := metav1.NewTime(c.clock.Now())
		for i := range cur.Status.Conditions {
			cond := &cur.Status.Conditions[i]
			if cond.Type == corev1.PodReady {
				cond.Status, cond.LastTransitionTime = corev1.ConditionFalse, now
				cond.Reason, cond.Message = "", ""
			}
		}
		_, err := c.client.CoreV1().Pods(cur.Namespace).UpdateStatus(ctx, cur, metav1.UpdateOptions{})
		cur = nil
		if err == nil {
			marked = true
		}
		return err
	})
	return marked, err
}

func podReady(p *corev1.Pod) bool {
	for _, cond := range p.Status.Conditions {
		if cond.Type == corev1.PodReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}

func isTerminal(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

// evictPods deletes the pods whose tolerations of the node's NoExecute
// taints have run out.
func (c *Controller) evictPods(ctx context.Context, n *corev1.Node) error {
	var taints []corev1.Taint
	for _, t := range n.Spec.Taints {
		if t.Effect == corev1.TaintEffectNoExecute {
			taints = append(taints, t)
		}
	}
	if len(taints) == 0 {
		return nil
	}
	now := c.clock.Now()
	var errs []error
	for _, p := range c.podsOn(n.Name) {
		if p.DeletionTimestamp != nil {
			continue
		}
		at, ok := EvictionTime(p, taints)
		if !ok || now.Before(at) {
			continue
		}
		c.mu.Lock()
		done := c.evicted[p.UID]
		c.mu.Unlock()
		if done {
			continue
		}
		uid := p.UID
		err := c.client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			errs = append(errs, fmt.Errorf("evict pod %s/%s: %w", p.Namespace, p.Name, err))
			continue
		}
		c.mu.Lock()
		c.evicted[uid] = true
		c.mu.Unlock()
		c.log.Info("evicted pod from tainted node", "pod", p.Namespace+"/"+p.Name, "node", n.Name)
		c.event(ctx, podRef(p), "taint-eviction-controller", "TaintManagerEviction", "Marking for deletion Pod "+p.Namespace+"/"+p.Name)
	}
	return errors.Join(errs...)
}

// forgetGone drops eviction records of pods no longer in the cache.
func (c *Controller) forgetGone() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.evicted) == 0 {
		return
	}
	live := map[types.UID]bool{}
	for _, o := range c.pods.List() {
		if p, ok := o.(*corev1.Pod); ok {
			live[p.UID] = true
		}
	}
	for uid := range c.evicted {
		if !live[uid] {
			delete(c.evicted, uid)
		}
	}
}

// EvictionTime returns when pod p must leave a node with the given
// NoExecute taints: at once if it does not tolerate one of them, the
// earliest timeAdded+tolerationSeconds over the taints otherwise, and
// false if it tolerates them all for ever.
func EvictionTime(p *corev1.Pod, taints []corev1.Taint) (time.Time, bool) {
	var at time.Time
	bounded := false
	for i := range taints {
		t := &taints[i]
		added := time.Time{}
		if t.TimeAdded != nil {
			added = t.TimeAdded.Time
		}
		secs, tolerated, forever := toleration(p.Spec.Tolerations, t)
		if !tolerated {
			return added, true
		}
		if forever {
			continue
		}
		when := added.Add(time.Duration(secs) * time.Second)
		if !bounded || when.Before(at) {
			at, bounded = when, true
		}
	}
	return at, bounded
}

// toleration finds the tolerations of t; the shortest tolerationSeconds
// wins, as upstream's getMinTolerationTime.
func toleration(ts []corev1.Toleration, t *corev1.Taint) (secs int64, tolerated, forever bool) {
	forever = true
	for i := range ts {
		if !ts[i].ToleratesTaint(klog.Background(), t, true) {
			continue
		}
		tolerated = true
		if ts[i].TolerationSeconds == nil {
			continue
		}
		s := max(*ts[i].TolerationSeconds, 0)
		if forever || s < secs {
			secs, forever = s, false
		}
	}
	return secs, tolerated, forever
}
