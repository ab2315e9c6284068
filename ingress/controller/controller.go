// Package controller is the ingress controller's control loop: it watches
// Ingresses, IngressClasses and TLS Secrets (and, through the shared
// service view, Services, EndpointSlices and Nodes), compiles them with
// the pure router into a route table, swaps that table into the proxy,
// reports what the router found as Events, and writes the addresses it
// serves on into the status of the Ingresses it serves.
package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	networkinglisters "k8s.io/client-go/listers/networking/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"rudder/ingress/route"
	"rudder/ingress/router"
	"rudder/proxy/runner"
	"rudder/proxy/serviceview"
)

// Swapper is the proxy as the controller sees it.
type Swapper interface {
	Swap(route.Table)
}

// Config configures a Controller.
type Config struct {
	Client kubernetes.Interface
	Proxy  Swapper
	// Router configures the compilation (controller name, global default
	// backend, ingresses without class).
	Router router.Config
	// PublishAddresses are written to status.loadBalancer.ingress; empty
	// means the InternalIP (else ExternalIP) of every Node.
	PublishAddresses []netip.Addr
	// MinSyncInterval spaces rebuilds (default 100ms): a burst of changes
	// costs one build.
	MinSyncInterval time.Duration
	// ResyncPeriod is the informers' resync period (0: none).
	ResyncPeriod time.Duration
	// Component names the event source (default "rudder-ingress").
	Component string
	Logger    *slog.Logger
	Metrics   *Metrics // nil: not recorded
}

// Controller is the control loop; see the package comment.
type Controller struct {
	cfg       Config
	log       *slog.Logger
	view      *serviceview.View
	factory   informers.SharedInformerFactory
	secrets   informers.SharedInformerFactory
	ingresses networkinglisters.IngressLister
	classes   networkinglisters.IngressClassLister
	tls       corelisters.SecretLister
	synced    []cache.InformerSynced
	runner    *runner.Runner
	events    *eventLog
	status    *statusWriter
	certs     *router.CertCache
	ready     atomic.Bool
	table     atomic.Pointer[router.Table]
}

// New builds the informers; nothing talks to the API server until Run.
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil || cfg.Proxy == nil {
		return nil, errors.New("ingress controller: Config.Client and Config.Proxy are required")
	}
	if cfg.MinSyncInterval == 0 {
		cfg.MinSyncInterval = 100 * time.Millisecond
	}
	if cfg.Component == "" {
		cfg.Component = "rudder-ingress"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	view, err := serviceview.New(serviceview.Config{Client: cfg.Client, ResyncPeriod: cfg.ResyncPeriod,
		NoNodes: len(cfg.PublishAddresses) > 0, Logger: cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("ingress controller: %w", err)
	}
	c := &Controller{cfg: cfg, log: cfg.Logger, view: view, certs: router.NewCertCache()}
	c.factory = informers.NewSharedInformerFactory(cfg.Client, cfg.ResyncPeriod)
	// Only TLS secrets: the others are none of the ingress's business,
	// and a cluster's secrets can be many and large.
	c.secrets = informers.NewSharedInformerFactoryWithOptions(cfg.Client, cfg.ResyncPeriod,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("type", string(corev1.SecretTypeTLS)).String()
		}))
	ing := c.factory.Networking().V1().Ingresses()
	cls := c.factory.Networking().V1().IngressClasses()
	sec := c.secrets.Core().V1().Secrets()
	c.ingresses, c.classes, c.tls = ing.Lister(), cls.Lister(), sec.Lister()
	for _, inf := range []cache.SharedIndexInformer{ing.Informer(), cls.Informer(), sec.Informer()} {
		reg, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    func(any) { c.trigger() },
			UpdateFunc: func(old, cur any) { c.trigger() },
			DeleteFunc: func(any) { c.trigger() },
		})
		if err != nil {
			return nil, fmt.Errorf("ingress controller: add event handler: %w", err)
		}
		c.synced = append(c.synced, reg.HasSynced)
	}
	c.runner, err = runner.New(runner.Config{MinInterval: cfg.MinSyncInterval, RetryBackoff: time.Second,
		MaxInterval: 5 * time.Minute, Sync: c.sync, Logger: cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("ingress controller: %w", err)
	}
	c.status = &statusWriter{client: cfg.Client, log: cfg.Logger, mine: map[string]bool{}}
	return c, nil
}

func (c *Controller) trigger() {
	if c.runner != nil {
		c.runner.Trigger()
	}
}

// Ready tells whether the caches have synced and the first table is in
// the proxy (the /healthz answer).
func (c *Controller) Ready() bool { return c.ready.Load() }

// Run starts the informers and the loop; it returns when ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	bc := record.NewBroadcaster(record.WithContext(ctx))
	defer bc.Shutdown()
	bc.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: c.cfg.Client.CoreV1().Events("")})
	c.events = newEventLog(bc.NewRecorder(scheme.Scheme, corev1.EventSource{Component: c.cfg.Component}), c.log)

	viewDone := make(chan struct{})
	go func() { defer close(viewDone); _ = c.view.Run(ctx) }()
	defer func() { <-viewDone }()
	c.factory.Start(ctx.Done())
	c.secrets.Start(ctx.Done())
	defer c.factory.Shutdown()
	defer c.secrets.Shutdown()
	if !cache.WaitForCacheSync(ctx.Done(), c.synced...) {
		return nil
	}
	for !c.view.HasSynced() {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(20 * time.Millisecond):
		}
	}
	c.log.Info("ingress caches synced")
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-c.view.Changes():
				c.runner.Trigger()
			}
		}
	}()
	c.runner.Run(ctx)
	return nil
}

// input reads every cache into the router's input, and the Nodes (for
// the publish addresses) from the same snapshot.
func (c *Controller) input() (router.Input, []*corev1.Node, error) {
	snap := c.view.Snapshot()
	in := router.Input{Services: snap.Services, EndpointSlices: snap.EndpointSlices}
	var err error
	if in.Classes, err = c.classes.List(labels.Everything()); err != nil {
		return in, nil, fmt.Errorf("list ingress classes: %w", err)
	}
	if in.Ingresses, err = c.ingresses.List(labels.Everything()); err != nil {
		return in, nil, fmt.Errorf("list ingresses: %w", err)
	}
	if in.Secrets, err = c.tls.List(labels.Everything()); err != nil {
		return in, nil, fmt.Errorf("list secrets: %w", err)
	}
	return in, snap.Nodes, nil
}

// sync compiles the caches into a table, swaps it in, then reports. Every
// sync is a full one: the table is rebuilt whole and status compared for
// every served Ingress.
func (c *Controller) sync(ctx context.Context, _ bool) error {
	start := time.Now()
	in, nodes, err := c.input()
	if err != nil {
		return err
	}
	rcfg := c.cfg.Router
	rcfg.Certs = c.certs
	res := router.Build(rcfg, in)
	c.cfg.Proxy.Swap(res.Table)
	c.table.Store(res.Table)
	built := time.Since(start)
	if !c.ready.Swap(true) {
		c.log.Info("first ingress configuration loaded", "ingresses", len(res.Served), "build", built)
	}
	ings := byKey(in.Ingresses)
	c.events.report(ings, res.Events)
	err = c.status.update(ctx, ings, res.Served, res.Unowned, c.publishAddresses(nodes))
	c.cfg.Metrics.observeSync(built, len(res.Served), err)
	return err
}

// publishAddresses are the addresses written into Ingress status.
func (c *Controller) publishAddresses(nodes []*corev1.Node) []string {
	if len(c.cfg.PublishAddresses) > 0 {
		out := make([]string, 0, len(c.cfg.PublishAddresses))
		for _, a := range c.cfg.PublishAddresses {
			out = append(out, a.String())
		}
		return sortedUnique(out)
	}
	return nodeAddresses(nodes)
}

func byKey(ings []*networkingv1.Ingress) map[string]*networkingv1.Ingress {
	m := make(map[string]*networkingv1.Ingress, len(ings))
	for _, ing := range ings {
		m[ing.Namespace+"/"+ing.Name] = ing
	}
	return m
}

// Dump is the current route table in text (the /configuration page), or
// a note that none is loaded yet.
func (c *Controller) Dump() string {
	t := c.table.Load()
	if t == nil {
		return "no configuration loaded yet\n"
	}
	return t.Dump()
}
