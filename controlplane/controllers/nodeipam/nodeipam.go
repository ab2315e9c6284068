// Package nodeipam assigns every Node a pod range (spec.podCIDR and
// spec.podCIDRs) cut from the cluster CIDR, through ipam.PodCIDRAllocator.
// Assignments live in the Node objects: at start the controller reads them
// back and occupies them before it hands out new ranges, and a deleted
// node's range is released.
package nodeipam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"

	"rudder/ipam"
)

// Config configures the controller.
type Config struct {
	Client    kubernetes.Interface
	Informers informers.SharedInformerFactory
	// ClusterCIDR is the range node ranges are cut from (--cluster-cidr).
	ClusterCIDR *net.IPNet
	// NodeMaskSize is the prefix length of one node's range; zero takes
	// ipam.DefaultNodeMaskSize (a /24 of an IPv4 cluster CIDR).
	NodeMaskSize int
	// Recorder, if set, records the CIDRNotAvailable Event; nil writes it
	// through Client.
	Recorder record.EventRecorder
	Logger   *slog.Logger
}

// Controller assigns pod CIDRs to nodes.
type Controller struct {
	client kubernetes.Interface
	nodes  corelisters.NodeLister
	synced cache.InformerSynced
	alloc  *ipam.PodCIDRAllocator
	queue  workqueue.TypedRateLimitingInterface[string]
	rec    record.EventRecorder
	log    *slog.Logger
}

// New checks cfg, builds the allocator and registers the node handlers on
// cfg.Informers; start the factory and call Run.
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil || cfg.Informers == nil {
		return nil, errors.New("node IPAM: a client and an informer factory are required")
	}
	if cfg.ClusterCIDR == nil {
		return nil, errors.New("node IPAM: no cluster CIDR")
	}
	prefix, err := prefixOf(cfg.ClusterCIDR)
	if err != nil {
		return nil, fmt.Errorf("node IPAM: cluster CIDR: %w", err)
	}
	alloc, err := ipam.NewPodCIDRAllocator(ipam.PodCIDRConfig{ClusterCIDR: prefix, NodeMaskSize: cfg.NodeMaskSize})
	if err != nil {
		return nil, fmt.Errorf("node IPAM: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	inf := cfg.Informers.Core().V1().Nodes()
	c := &Controller{
		client: cfg.Client,
		nodes:  inf.Lister(),
		synced: inf.Informer().HasSynced,
		alloc:  alloc,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "nodeipam"}),
		rec: cfg.Recorder,
		log: log.With("controller", "nodeipam"),
	}
	_, err = inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, obj any) { c.enqueue(obj) },
		DeleteFunc: c.enqueue,
	})
	if err != nil {
		return nil, fmt.Errorf("node IPAM: add node handler: %w", err)
	}
	return c, nil
}

func prefixOf(n *net.IPNet) (netip.Prefix, error) {
	addr, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, fmt.Errorf("bad address %v", n.IP)
	}
	ones, bits := n.Mask.Size()
	if bits == 0 {
		return netip.Prefix{}, fmt.Errorf("non-canonical mask %v", n.Mask)
	}
	addr = addr.Unmap()
	if addr.BitLen() != bits {
		return netip.Prefix{}, fmt.Errorf("address %v does not match a /%d mask of %d bits", n.IP, ones, bits)
	}
	return netip.PrefixFrom(addr, ones).Masked(), nil
}

func (c *Controller) enqueue(obj any) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		c.log.Warn("node key", "err", err)
		return
	}
	c.queue.Add(key)
}

// Allocator exposes the allocator (for metrics and tests).
func (c *Controller) Allocator() *ipam.PodCIDRAllocator { return c.alloc }

// Run waits for the node cache, occupies the ranges nodes already hold and
// then assigns ranges until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	defer c.queue.ShutDown()
	if !cache.WaitForCacheSync(ctx.Done(), c.synced) {
		return fmt.Errorf("node IPAM: wait for node cache: %w", ctx.Err())
	}
	if err := c.occupyExisting(); err != nil {
		return err
	}
	c.log.Info("started", "clusterCIDR", c.alloc.ClusterCIDR(), "nodeMaskSize", c.alloc.NodeMaskSize(),
		"ranges", c.alloc.Size(), "used", c.alloc.Used())
	go wait.UntilWithContext(ctx, c.worker, time.Second)
	<-ctx.Done()
	return nil
}

// occupyExisting records every range already in a Node object, so that new
// assignments never hand it out again.
func (c *Controller) occupyExisting() error {
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return fmt.Errorf("node IPAM: list nodes: %w", err)
	}
	for _, n := range nodes {
		c.occupy(n)
	}
	return nil
}

// occupy records n's range; a range outside the cluster CIDR or held by
// another node is logged and left alone.
func (c *Controller) occupy(n *corev1.Node) {
	for _, s := range podCIDRs(n) {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			c.log.Warn("node has an unparsable pod CIDR", "node", n.Name, "podCIDR", s, "err", err)
			continue
		}
		if p.Addr().Is4() != c.alloc.ClusterCIDR().Addr().Is4() {
			continue // the other family of a dual-stack node
		}
		if err := c.alloc.Occupy(n.Name, p); err != nil {
			c.log.Warn("cannot occupy a node's pod CIDR", "node", n.Name, "podCIDR", s, "err", err)
		}
	}
}

func podCIDRs(n *corev1.Node) []string {
	if len(n.Spec.PodCIDRs) > 0 {
		return n.Spec.PodCIDRs
	}
	if n.Spec.PodCIDR != "" {
		return []string{n.Spec.PodCIDR}
	}
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
	if err := c.sync(ctx, key); err != nil {
		c.log.Warn("sync node", "node", key, "err", err)
		c.queue.AddRateLimited(key)
		return true
	}
	c.queue.Forget(key)
	return true
}

// sync gives node name a range if it has none, or releases its range if it
// is gone.
func (c *Controller) sync(ctx context.Context, name string) error {
	n, err := c.nodes.Get(name)
	if apierrors.IsNotFound(err) {
		if p, ok := c.alloc.Lookup(name); ok {
			c.alloc.Release(name)
			c.log.Info("released pod CIDR of a deleted node", "node", name, "podCIDR", p)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("get node %s: %w", name, err)
	}
	if len(podCIDRs(n)) > 0 {
		c.occupy(n)
		return nil
	}
	p, err := c.alloc.Allocate(name)
	if errors.Is(err, ipam.ErrFull) {
		c.recordFull(ctx, n, err)
		return err
	}
	if err != nil {
		return err
	}
	if err := c.assign(ctx, n, p); err != nil {
		c.alloc.Release(name)
		return err
	}
	c.log.Info("assigned pod CIDR", "node", name, "podCIDR", p)
	return nil
}

// assign writes p into the node's spec; the patch carries the node's uid
// so that a node recreated under the same name is not given a range meant
// for its predecessor.
func (c *Controller) assign(ctx context.Context, n *corev1.Node, p netip.Prefix) error {
	patch := map[string]any{
		"metadata": map[string]any{"uid": n.UID},
		"spec":     map[string]any{"podCIDR": p.String(), "podCIDRs": []string{p.String()}},
	}
	data, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	if _, err := c.client.CoreV1().Nodes().Patch(ctx, n.Name, types.StrategicMergePatchType, data, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("assign pod CIDR %s to node %s: %w", p, n.Name, err)
	}
	return nil
}

// recordFull logs and emits a CIDRNotAvailable Event on the node, as
// kube-controller-manager does.
func (c *Controller) recordFull(ctx context.Context, n *corev1.Node, cause error) {
	c.log.Error("no pod CIDR left for node", "node", n.Name, "err", cause)
	ref := &corev1.ObjectReference{Kind: "Node", APIVersion: "v1", Name: n.Name, UID: types.UID(n.Name)}
	if c.rec != nil {
		c.rec.Eventf(ref, corev1.EventTypeNormal, "CIDRNotAvailable", "Node %s status is now: CIDRNotAvailable", n.Name)
		return
	}
	now := metav1.Now()
	ev := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: fmt.Sprintf("%s.%x", n.Name, now.UnixNano()), Namespace: metav1.NamespaceDefault},
		InvolvedObject: *ref,
		Reason:         "CIDRNotAvailable",
		Message:        fmt.Sprintf("Node %s status is now: CIDRNotAvailable", n.Name),
		Type:           corev1.EventTypeNormal,
		Source:         corev1.EventSource{Component: "cidrAllocator"},
		FirstTimestamp: now,
		LastTimestamp:  now,
		Count:          1,
	}
	if _, err := c.client.CoreV1().Events(ev.Namespace).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
		c.log.Warn("record CIDRNotAvailable event", "node", n.Name, "err", err)
	}
}
