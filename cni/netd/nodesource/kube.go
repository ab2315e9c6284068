package nodesource

import (
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"rudder/cni/netd/netstate"
)

// KubeConfig configures a Kube source.
type KubeConfig struct {
	Client kubernetes.Interface
	// Factory, when set, is shared with the node agent's other components;
	// otherwise the source makes its own.
	Factory informers.SharedInformerFactory
}

// Kube follows Node objects through an informer.
type Kube struct {
	client   kubernetes.Interface
	factory  informers.SharedInformerFactory
	informer cache.SharedIndexInformer
	lister   corelisters.NodeLister
	changes  chan struct{}
}

// NewKube registers a Node informer on the factory; Start runs it.
func NewKube(cfg KubeConfig) *Kube {
	f := cfg.Factory
	if f == nil {
		f = informers.NewSharedInformerFactory(cfg.Client, 0)
	}
	nodes := f.Core().V1().Nodes()
	return &Kube{
		client: cfg.Client, factory: f,
		informer: nodes.Informer(), lister: nodes.Lister(),
		changes: make(chan struct{}, 1),
	}
}

// Start runs the informer until ctx ends and waits for its first list.
func (k *Kube) Start(ctx context.Context) error {
	reg, err := k.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { k.notify() },
		UpdateFunc: func(old, cur any) {
			o, ok1 := old.(*corev1.Node)
			c, ok2 := cur.(*corev1.Node)
			if !ok1 || !ok2 || FromNode(o) != FromNode(c) { // ignore status heartbeats
				k.notify()
			}
		},
		DeleteFunc: func(any) { k.notify() },
	})
	if err != nil {
		return fmt.Errorf("watch nodes: %w", err)
	}
	context.AfterFunc(ctx, func() { _ = k.informer.RemoveEventHandler(reg) })
	k.factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), k.informer.HasSynced, reg.HasSynced) {
		return fmt.Errorf("watch nodes: cache not synced: %w", context.Cause(ctx))
	}
	return nil
}

func (k *Kube) notify() {
	select {
	case k.changes <- struct{}{}:
	default: // a wake-up is already pending; one sync covers both
	}
}

// Changes receives after nodes changed in a way that matters to netd.
func (k *Kube) Changes() <-chan struct{} { return k.changes }

// Nodes returns every node in the informer's cache.
func (k *Kube) Nodes() ([]netstate.Node, error) {
	list, err := k.lister.List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	out := make([]netstate.Node, 0, len(list))
	for _, n := range list {
		out = append(out, FromNode(n))
	}
	return out, nil
}

// Publish sets this node's annotations; it patches only when they differ
// from what the cache holds.
func (k *Kube) Publish(ctx context.Context, name string, p Published) error {
	node, err := k.lister.Get(name)
	if err != nil {
		return fmt.Errorf("publish on node %s: %w", name, err)
	}
	want := p.annotations()
	if annotated(node, want) {
		return nil
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": want}})
	if err != nil {
		return fmt.Errorf("publish on node %s: %w", name, err)
	}
	_, err = k.client.CoreV1().Nodes().Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
	if err != nil {
		return fmt.Errorf("publish on node %s: patch annotations: %w", name, err)
	}
	return nil
}

func annotated(n *corev1.Node, want map[string]*string) bool {
	for k, v := range want {
		have, ok := n.Annotations[k]
		if (v == nil && ok) || (v != nil && (!ok || have != *v)) {
			return false
		}
	}
	return true
}
