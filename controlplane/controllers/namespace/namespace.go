// Package namespace is the namespace controller: a namespace marked for
// deletion has everything in it deleted (pods with their grace period),
// and once nothing is left the "kubernetes" finalizer is removed through
// the namespaces/finalize subresource, which lets the apiserver remove the
// namespace. Progress is reported in the namespace's conditions, as
// upstream does (NamespaceContentRemaining, NamespaceFinalizersRemaining,
// NamespaceDeletionContentFailure, …).
package namespace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/retry"
	"k8s.io/client-go/util/workqueue"

	"rudder/controlplane/catalog"
)

// DefaultRecheck is how soon a namespace whose content is still going
// away is looked at again.
const DefaultRecheck = 2 * time.Second

// Config configures the controller.
type Config struct {
	Client kubernetes.Interface
	// Metadata lists and deletes the namespace's content of every kind.
	Metadata  metadata.Interface
	Informers informers.SharedInformerFactory
	// Resources are the kinds deleted; nil takes every namespaced served
	// resource (catalog.Resources).
	Resources []catalog.Resource
	Recheck   time.Duration
	Workers   int
	Logger    *slog.Logger
}

// Controller is the namespace controller.
type Controller struct {
	client     kubernetes.Interface
	meta       metadata.Interface
	namespaces corelisters.NamespaceLister
	synced     cache.InformerSynced
	res        []catalog.Resource
	recheck    time.Duration
	workers    int
	queue      workqueue.TypedRateLimitingInterface[string]
	log        *slog.Logger
}

// New registers the namespace handlers on cfg.Informers; start the factory
// and call Run.
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil || cfg.Metadata == nil || cfg.Informers == nil {
		return nil, errors.New("namespace controller: a client, a metadata client and an informer factory are required")
	}
	c := &Controller{
		client:  cfg.Client,
		meta:    cfg.Metadata,
		res:     cfg.Resources,
		recheck: cfg.Recheck,
		workers: max(cfg.Workers, 1),
		log:     cfg.Logger,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "namespace"}),
	}
	if c.recheck == 0 {
		c.recheck = DefaultRecheck
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.log = c.log.With("controller", "namespace")
	if c.res == nil {
		for _, r := range catalog.Resources() {
			if r.Namespaced && slices.Contains(r.Verbs, "delete") && slices.Contains(r.Verbs, "list") {
				c.res = append(c.res, r)
			}
		}
	}
	inf := cfg.Informers.Core().V1().Namespaces()
	c.namespaces = inf.Lister()
	c.synced = inf.Informer().HasSynced
	enqueue := func(obj any) {
		if ns, ok := obj.(*corev1.Namespace); ok && ns.DeletionTimestamp != nil {
			c.queue.Add(ns.Name)
		}
	}
	_, err := inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
	})
	if err != nil {
		return nil, fmt.Errorf("namespace controller: add handler: %w", err)
	}
	return c, nil
}

// Run waits for the namespace cache and works until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	defer c.queue.ShutDown()
	if !cache.WaitForCacheSync(ctx.Done(), c.synced) {
		return fmt.Errorf("namespace controller: wait for cache: %w", ctx.Err())
	}
	c.log.Info("started", "resources", len(c.res))
	for range c.workers {
		go wait.UntilWithContext(ctx, c.worker, time.Second)
	}
	<-ctx.Done()
	return nil
}

func (c *Controller) worker(ctx context.Context) {
	for {
		name, quit := c.queue.Get()
		if quit {
			return
		}
		err := c.sync(ctx, name)
		var rem *remainingError
		switch {
		case errors.As(err, &rem):
			c.queue.Forget(name)
			c.queue.AddAfter(name, c.recheck)
		case err != nil:
			c.log.Warn("delete namespace content", "namespace", name, "err", err)
			c.queue.AddRateLimited(name)
		default:
			c.queue.Forget(name)
		}
		c.queue.Done(name)
	}
}

// remainingError says content is still going away.
type remainingError struct{ n int }

func (e *remainingError) Error() string { return fmt.Sprintf("%d objects remaining", e.n) }

// content is what a pass found left in a namespace.
type content struct {
	remaining  map[string]int // "resource.group" → objects left
	finalizers map[string]int // finalizer → objects holding it
	errs       []error
}

func (c *Controller) sync(ctx context.Context, name string) error {
	ns, err := c.namespaces.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if ns.DeletionTimestamp == nil || !slices.Contains(ns.Spec.Finalizers, corev1.FinalizerKubernetes) {
		return nil
	}
	got := c.deleteContent(ctx, name)
	if err := c.updateStatus(ctx, name, got); err != nil {
		return err
	}
	if err := errors.Join(got.errs...); err != nil {
		return err
	}
	if n := total(got.remaining); n > 0 {
		return &remainingError{n}
	}
	return c.finalize(ctx, name)
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// deleteContent deletes every object in the namespace that is not already
// going and counts what is left.
func (c *Controller) deleteContent(ctx context.Context, ns string) content {
	out := content{remaining: map[string]int{}, finalizers: map[string]int{}}
	background := metav1.DeletePropagationBackground
	for _, r := range c.res {
		client := c.meta.Resource(r.GroupVersionResource).Namespace(ns)
		list, err := client.List(ctx, metav1.ListOptions{})
		if err != nil {
			out.errs = append(out.errs, fmt.Errorf("list %s: %w", r.Resource, err))
			continue
		}
		deleted := 0
		for i := range list.Items {
			m := &list.Items[i]
			if m.DeletionTimestamp != nil {
				continue
			}
			uid := m.UID
			err := client.Delete(ctx, m.Name, metav1.DeleteOptions{
				PropagationPolicy: &background,
				Preconditions:     &metav1.Preconditions{UID: &uid},
			})
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
				out.errs = append(out.errs, fmt.Errorf("delete %s %s: %w", r.Resource, m.Name, err))
			}
			deleted++
		}
		left := list.Items
		if deleted > 0 {
			again, err := client.List(ctx, metav1.ListOptions{})
			if err != nil {
				out.errs = append(out.errs, fmt.Errorf("list %s: %w", r.Resource, err))
				continue
			}
			left = again.Items
		}
		if len(left) == 0 {
			continue
		}
		out.remaining[r.Resource+"."+r.Group] += len(left)
		for i := range left {
			for _, f := range left[i].Finalizers {
				out.finalizers[f]++
			}
		}
	}
	return out
}

// conditions returns the five deletion conditions for what a pass found.
func conditions(got content, now metav1.Time) []corev1.NamespaceCondition {
	cond := func(t corev1.NamespaceConditionType, failing bool, okReason, okMsg, badReason, badMsg string) corev1.NamespaceCondition {
		if failing {
			return corev1.NamespaceCondition{Type: t, Status: corev1.ConditionTrue, Reason: badReason, Message: badMsg, LastTransitionTime: now}
		}
		return corev1.NamespaceCondition{Type: t, Status: corev1.ConditionFalse, Reason: okReason, Message: okMsg, LastTransitionTime: now}
	}
	var errMsgs []string
	for _, e := range got.errs {
		errMsgs = append(errMsgs, e.Error())
	}
	sort.Strings(errMsgs)
	return []corev1.NamespaceCondition{
		cond(corev1.NamespaceDeletionDiscoveryFailure, false, "ResourcesDiscovered", "All resources successfully discovered", "", ""),
		cond(corev1.NamespaceDeletionGVParsingFailure, false, "ParsedGroupVersions", "All legacy kube types successfully parsed", "", ""),
		cond(corev1.NamespaceDeletionContentFailure, len(errMsgs) > 0,
			"ContentDeleted", "All content successfully deleted, may be waiting on finalization",
			"ContentDeletionFailed", "Failed to delete all resource types, "+fmt.Sprint(len(errMsgs))+" remaining: "+strings.Join(errMsgs, ", ")),
		cond(corev1.NamespaceContentRemaining, total(got.remaining) > 0,
			"ContentRemoved", "All content successfully removed",
			"SomeResourcesRemain", "Some resources are remaining: "+summary(got.remaining, "%s has %d resource instances")),
		cond(corev1.NamespaceFinalizersRemaining, total(got.finalizers) > 0,
			"ContentHasNoFinalizers", "All content-preserving finalizers finished",
			"SomeFinalizersRemain", "Some content in the namespace has finalizers remaining: "+summary(got.finalizers, "%s in %d resource instances")),
	}
}

func summary(m map[string]int, format string) string {
	var parts []string
	for k, n := range m {
		if n > 0 {
			parts = append(parts, fmt.Sprintf(format, k, n))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// mergeConditions puts want into have, keeping the transition time of a
// condition whose status did not change; it reports whether anything did.
func mergeConditions(have []corev1.NamespaceCondition, want []corev1.NamespaceCondition) ([]corev1.NamespaceCondition, bool) {
	out := slices.Clone(have)
	changed := false
	for _, w := range want {
		i := slices.IndexFunc(out, func(h corev1.NamespaceCondition) bool { return h.Type == w.Type })
		if i < 0 {
			out = append(out, w)
			changed = true
			continue
		}
		if out[i].Status == w.Status {
			w.LastTransitionTime = out[i].LastTransitionTime
		}
		if !apiequality.Semantic.DeepEqual(out[i], w) {
			out[i] = w
			changed = true
		}
	}
	return out, changed
}

func (c *Controller) updateStatus(ctx context.Context, name string, got content) error {
	want := conditions(got, metav1.Now())
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		ns, err := c.client.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		conds, changed := mergeConditions(ns.Status.Conditions, want)
		if !changed && ns.Status.Phase == corev1.NamespaceTerminating {
			return nil
		}
		ns.Status.Conditions = conds
		ns.Status.Phase = corev1.NamespaceTerminating
		_, err = c.client.CoreV1().Namespaces().UpdateStatus(ctx, ns, metav1.UpdateOptions{})
		return err
	})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("update status of namespace %s: %w", name, err)
	}
	return nil
}

// finalize removes the "kubernetes" finalizer through namespaces/finalize.
func (c *Controller) finalize(ctx context.Context, name string) error {
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		ns, err := c.client.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if !slices.Contains(ns.Spec.Finalizers, corev1.FinalizerKubernetes) {
			return nil
		}
		ns.Spec.Finalizers = slices.DeleteFunc(ns.Spec.Finalizers, func(f corev1.FinalizerName) bool {
			return f == corev1.FinalizerKubernetes
		})
		_, err = c.client.CoreV1().Namespaces().Finalize(ctx, ns, metav1.UpdateOptions{})
		return err
	})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("finalize namespace %s: %w", name, err)
	}
	c.log.Info("namespace emptied and finalized", "namespace", name)
	return nil
}
