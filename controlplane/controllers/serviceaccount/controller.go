// Package serviceaccount keeps in every namespace what pods need to reach
// the API with in-cluster config, as upstream's serviceaccount controller
// and root CA publisher do together: a ServiceAccount `default` and a
// ConfigMap `kube-root-ca.crt` holding the cluster CA under ca.crt. Both
// are recreated when deleted and the ConfigMap is put back when edited.
package serviceaccount

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"rudder/controlplane/controllers/worker"
)

// Names of what the controller keeps, as upstream.
const (
	DefaultName    = "default"
	RootCAName     = "kube-root-ca.crt"
	RootCAKey      = "ca.crt"
	descriptionKey = "kubernetes.io/description"
	description    = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. " +
		"No other usage is guaranteed across distributions of Kubernetes clusters."
)

// Config configures the controller.
type Config struct {
	Client    kubernetes.Interface
	Informers informers.SharedInformerFactory
	// RootCA is the cluster CA bundle (PEM) published as kube-root-ca.crt;
	// empty publishes nothing.
	RootCA []byte
	Logger *slog.Logger
}

// Controller keeps the default ServiceAccount and the root CA ConfigMap in
// every namespace.
type Controller struct {
	client     kubernetes.Interface
	rootCA     []byte
	namespaces corelisters.NamespaceLister
	accounts   corelisters.ServiceAccountLister
	configMaps corelisters.ConfigMapLister
	synced     []cache.InformerSynced
	queue      workqueue.TypedRateLimitingInterface[string]
	log        *slog.Logger
}

// New registers the handlers on cfg.Informers; start the factory and call
// Run.
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil || cfg.Informers == nil {
		return nil, errors.New("serviceaccount controller: a client and an informer factory are required")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	core := cfg.Informers.Core().V1()
	ns, sa, cm := core.Namespaces(), core.ServiceAccounts(), core.ConfigMaps()
	c := &Controller{
		client: cfg.Client, rootCA: cfg.RootCA,
		namespaces: ns.Lister(), accounts: sa.Lister(), configMaps: cm.Lister(),
		synced: []cache.InformerSynced{ns.Informer().HasSynced, sa.Informer().HasSynced, cm.Informer().HasSynced},
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "serviceaccount"}),
		log: log.With("controller", "serviceaccount"),
	}
	handlers := []struct {
		inf cache.SharedIndexInformer
		h   cache.ResourceEventHandler
	}{
		{ns.Informer(), cache.ResourceEventHandlerFuncs{AddFunc: c.enqueueNamespace, UpdateFunc: func(_, o any) { c.enqueueNamespace(o) }}},
		{sa.Informer(), cache.ResourceEventHandlerFuncs{DeleteFunc: c.enqueueOwner(DefaultName)}},
		{cm.Informer(), cache.ResourceEventHandlerFuncs{
			UpdateFunc: func(_, o any) { c.enqueueOwner(RootCAName)(o) }, DeleteFunc: c.enqueueOwner(RootCAName)}},
	}
	for _, h := range handlers {
		if _, err := h.inf.AddEventHandler(h.h); err != nil {
			return nil, fmt.Errorf("serviceaccount controller: add handler: %w", err)
		}
	}
	return c, nil
}

func (c *Controller) enqueueNamespace(obj any) {
	if ns, ok := obj.(*corev1.Namespace); ok {
		c.queue.Add(ns.Name)
	}
}

// enqueueOwner returns a handler that queues the namespace of an object
// named name (through deletion tombstones too).
func (c *Controller) enqueueOwner(name string) func(any) {
	return func(obj any) {
		if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = t.Obj
		}
		m, err := metaOf(obj)
		if err == nil && m.GetName() == name {
			c.queue.Add(m.GetNamespace())
		}
	}
}

func metaOf(obj any) (metav1.Object, error) {
	m, ok := obj.(metav1.Object)
	if !ok {
		return nil, fmt.Errorf("unexpected object %T", obj)
	}
	return m, nil
}

// Run processes namespaces with the given number of workers until ctx
// ends.
func (c *Controller) Run(ctx context.Context, workers int) error {
	return worker.Run(ctx, worker.Config{Name: "serviceaccount", Queue: c.queue, Synced: c.synced,
		Workers: workers, Sync: c.sync, Logger: c.log})
}

// sync makes sure namespace ns has its default ServiceAccount and an
// up-to-date root CA ConfigMap; terminating or gone namespaces are left
// alone.
func (c *Controller) sync(ctx context.Context, ns string) error {
	n, err := c.namespaces.Get(ns)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if n.DeletionTimestamp != nil || n.Status.Phase == corev1.NamespaceTerminating {
		return nil
	}
	if err := c.syncAccount(ctx, ns); err != nil {
		return err
	}
	return c.syncRootCA(ctx, ns)
}

func (c *Controller) syncAccount(ctx context.Context, ns string) error {
	if _, err := c.accounts.ServiceAccounts(ns).Get(DefaultName); !apierrors.IsNotFound(err) {
		return err
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: DefaultName, Namespace: ns}}
	_, err := c.client.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{})
	if ignorable(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create service account %s/%s: %w", ns, DefaultName, err)
	}
	c.log.Info("created service account", "namespace", ns, "name", DefaultName)
	return nil
}

// ignorable: it exists already, or the namespace went away or is
// terminating.
func ignorable(err error) bool {
	return apierrors.IsAlreadyExists(err) || apierrors.IsNotFound(err) || apierrors.IsForbidden(err)
}

func (c *Controller) syncRootCA(ctx context.Context, ns string) error {
	if len(c.rootCA) == 0 {
		return nil
	}
	cur, err := c.configMaps.ConfigMaps(ns).Get(RootCAName)
	if apierrors.IsNotFound(err) {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: RootCAName, Namespace: ns,
			Annotations: map[string]string{descriptionKey: description}},
			Data: map[string]string{RootCAKey: string(c.rootCA)}}
		_, err = c.client.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{})
		if ignorable(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("create config map %s/%s: %w", ns, RootCAName, err)
		}
		return nil
	}
	if err != nil {
		return err
	}
	if upToDate(cur, c.rootCA) {
		return nil
	}
	next := cur.DeepCopy()
	next.Data = map[string]string{RootCAKey: string(c.rootCA)}
	next.BinaryData = nil
	if next.Annotations == nil {
		next.Annotations = map[string]string{}
	}
	next.Annotations[descriptionKey] = description
	if _, err := c.client.CoreV1().ConfigMaps(ns).Update(ctx, next, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("update config map %s/%s: %w", ns, RootCAName, err)
	}
	return nil
}

// upToDate tells whether cm holds exactly the CA bundle and the
// description.
func upToDate(cm *corev1.ConfigMap, ca []byte) bool {
	return len(cm.Data) == 1 && bytes.Equal([]byte(cm.Data[RootCAKey]), ca) && len(cm.BinaryData) == 0 &&
		cm.Annotations[descriptionKey] == description
}
