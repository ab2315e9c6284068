package autopath

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// PodIndex is a PodNamespacer fed by a Pod informer. The informer keeps
// only what the index needs of each pod (namespace, name, pod IPs, host
// network, phase), so its memory stays small in big clusters.
type PodIndex struct {
	factory  informers.SharedInformerFactory
	informer cache.SharedIndexInformer
	synced   cache.InformerSynced
	log      *slog.Logger

	mu   sync.RWMutex
	byIP map[netip.Addr]podRef
}

type podRef struct{ ns, name string }

// NewPodIndex builds the informer; nothing talks to the API server until
// Run.
func NewPodIndex(client kubernetes.Interface, logger *slog.Logger) (*PodIndex, error) {
	if client == nil {
		return nil, errors.New("autopath: pod index: client is nil")
	}
	if logger == nil {
		logger = slog.Default()
	}
	p := &PodIndex{
		factory: informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithTransform(trimPod)),
		log:     logger,
		byIP:    make(map[netip.Addr]podRef),
	}
	p.informer = p.factory.Core().V1().Pods().Informer()
	reg, err := p.informer.AddEventHandler(p.handler())
	if err != nil {
		return nil, fmt.Errorf("autopath: pod index: add event handler: %w", err)
	}
	p.synced = reg.HasSynced
	return p, nil
}

// Run starts the informer and blocks until ctx ends.
func (p *PodIndex) Run(ctx context.Context) error {
	p.factory.Start(ctx.Done())
	defer p.factory.Shutdown()
	if cache.WaitForCacheSync(ctx.Done(), p.synced) {
		p.log.Info("pod index synced")
	}
	<-ctx.Done()
	return nil
}

// HasSynced tells whether the informer has delivered its initial list.
func (p *PodIndex) HasSynced() bool { return p.synced() }

// NamespaceOf is the namespace of the pod with address ip.
func (p *PodIndex) NamespaceOf(ip net.IP) (string, bool) {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return "", false
	}
	p.mu.RLock()
	ref, ok := p.byIP[a.Unmap()]
	p.mu.RUnlock()
	return ref.ns, ok
}

// trimPod keeps what the index uses of a pod.
func trimPod(obj any) (any, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil // a tombstone keeps the already trimmed pod
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name, ResourceVersion: pod.ResourceVersion},
		Spec:       corev1.PodSpec{HostNetwork: pod.Spec.HostNetwork},
		Status:     corev1.PodStatus{Phase: pod.Status.Phase, PodIPs: pod.Status.PodIPs},
	}, nil
}

func (p *PodIndex) handler() cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { p.update(nil, asPod(obj)) },
		UpdateFunc: func(old, cur any) {
			p.update(asPod(old), asPod(cur))
		},
		DeleteFunc: func(obj any) { p.update(asPod(obj), nil) },
	}
}

func asPod(obj any) *corev1.Pod {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, _ := obj.(*corev1.Pod)
	return pod
}

// update moves the index from old's addresses to cur's. An address held
// by another pod is left alone: the last pod added owns it.
func (p *PodIndex) update(old, cur *corev1.Pod) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if old != nil {
		ref := podRef{old.Namespace, old.Name}
		for _, a := range addrs(old) {
			if p.byIP[a] == ref {
				delete(p.byIP, a)
			}
		}
	}
	if cur != nil {
		ref := podRef{cur.Namespace, cur.Name}
		for _, a := range addrs(cur) {
			p.byIP[a] = ref
		}
	}
}

// addrs are the pod's own addresses: none for host-network pods (they
// share the node's) and for finished pods (their addresses are reused).
func addrs(pod *corev1.Pod) []netip.Addr {
	if pod.Spec.HostNetwork || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return nil
	}
	out := make([]netip.Addr, 0, len(pod.Status.PodIPs))
	for _, ip := range pod.Status.PodIPs {
		if a, err := netip.ParseAddr(ip.IP); err == nil {
			out = append(out, a.Unmap())
		}
	}
	return out
}
