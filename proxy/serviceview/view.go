// Package serviceview is the shared, coalescing view of Services,
// EndpointSlices and Nodes that the service proxy, the cluster DNS and
// the ingress controller consume: informers fill a cache, Changes
// signals (coalesced) that something changed, and Snapshot reads the
// cache at the moment the consumer is ready to act on it.
package serviceview

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"
)

// Config configures a View.
type Config struct {
	Client kubernetes.Interface
	// ResyncPeriod is the informers' resync period; 0 disables it.
	// Resyncs do not signal Changes (nothing changed).
	ResyncPeriod time.Duration
	// NoNodes skips the Node informer (DNS and ingress need none);
	// Snapshot.Nodes is then empty.
	NoNodes bool
	Logger  *slog.Logger
}

// View is the shared view. Create it with New, start it with Run.
type View struct {
	log      *slog.Logger
	factory  informers.SharedInformerFactory
	services corelisters.ServiceLister
	slices   discoverylisters.EndpointSliceLister
	nodes    corelisters.NodeLister // nil with NoNodes
	synced   []cache.InformerSynced
	changes  chan struct{}
}

// New builds the informers and registers the change handlers; nothing
// talks to the API server until Run.
func New(cfg Config) (*View, error) {
	if cfg.Client == nil {
		return nil, errors.New("serviceview: Config.Client is nil")
	}
	v := &View{
		log:     cfg.Logger,
		factory: informers.NewSharedInformerFactory(cfg.Client, cfg.ResyncPeriod),
		changes: make(chan struct{}, 1),
	}
	if v.log == nil {
		v.log = slog.Default()
	}
	svc := v.factory.Core().V1().Services()
	eps := v.factory.Discovery().V1().EndpointSlices()
	v.services, v.slices = svc.Lister(), eps.Lister()
	infs := []cache.SharedIndexInformer{svc.Informer(), eps.Informer()}
	if !cfg.NoNodes {
		n := v.factory.Core().V1().Nodes()
		v.nodes = n.Lister()
		infs = append(infs, n.Informer())
	}
	for _, inf := range infs {
		if err := inf.SetTransform(trimMeta); err != nil {
			return nil, fmt.Errorf("serviceview: set transform: %w", err)
		}
		reg, err := inf.AddEventHandler(v.handler())
		if err != nil {
			return nil, fmt.Errorf("serviceview: add event handler: %w", err)
		}
		v.synced = append(v.synced, reg.HasSynced)
	}
	return v, nil
}

// Run starts the informers and blocks until ctx ends, then returns nil.
// It signals Changes once the caches have synced, so a consumer's first
// Snapshot after that signal is complete.
func (v *View) Run(ctx context.Context) error {
	v.factory.Start(ctx.Done())
	defer v.factory.Shutdown()
	if !cache.WaitForCacheSync(ctx.Done(), v.synced...) {
		return nil // ctx ended first
	}
	v.log.Info("service view synced")
	v.notify()
	<-ctx.Done()
	return nil
}

// HasSynced tells whether every informer has delivered its initial list.
func (v *View) HasSynced() bool {
	for _, s := range v.synced {
		if !s() {
			return false
		}
	}
	return true
}

// Changes is signalled after anything in the view changed. Signals
// coalesce: at most one is pending, so a burst of changes wakes the
// consumer once, and the consumer then reads one Snapshot.
func (v *View) Changes() <-chan struct{} { return v.changes }

func (v *View) notify() {
	select {
	case v.changes <- struct{}{}:
	default:
	}
}

// Services is the informer's Service lister, for consumers that look
// single objects up.
func (v *View) Services() corelisters.ServiceLister { return v.services }

// EndpointSlices is the informer's EndpointSlice lister.
func (v *View) EndpointSlices() discoverylisters.EndpointSliceLister { return v.slices }

// lastApplied is kubectl's copy of the applied manifest, an annotation as
// large as the object itself.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// trimMeta drops what no consumer of the view reads and what costs the
// most memory in the cache at 10,000 services: managedFields and kubectl's
// last-applied annotation. It runs once per object as it enters the cache.
func trimMeta(obj any) (any, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return obj, nil // a tombstone: its object was trimmed on the way in
	}
	m.SetManagedFields(nil)
	if a := m.GetAnnotations(); a[lastApplied] != "" {
		trimmed := make(map[string]string, len(a)-1)
		for k, v := range a {
			if k != lastApplied {
				trimmed[k] = v
			}
		}
		m.SetAnnotations(trimmed)
	}
	return obj, nil
}
