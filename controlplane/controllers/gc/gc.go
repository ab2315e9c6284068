// Package gc is the garbage collector: it follows ownerReferences across
// every served kind and carries out the three deletion propagation
// policies.
//
//   - Background: an object whose owners are all gone is deleted.
//   - Foreground: an owner marked for deletion with the foregroundDeletion
//     finalizer has its dependents deleted; once none that blocks owner
//     deletion (blockOwnerDeletion) remains, the finalizer is removed and
//     the apiserver removes the owner.
//   - Orphan: an owner marked for deletion with the orphan finalizer has
//     its ownerReference removed from every dependent, then the finalizer.
//
// It watches object metadata only (the metadata client) and finds owners
// and dependents through two cache indexes, by uid and by owner uid, rather
// than keeping a graph of its own.
package gc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"rudder/controlplane/catalog"
)

const (
	indexUID   = "uid"
	indexOwner = "owner-uid"
	// recheck is how soon a foreground owner still waiting for dependents
	// is looked at again, in case an event was missed.
	recheck = 5 * time.Second
)

// Config configures the collector.
type Config struct {
	Metadata metadata.Interface
	// Informers is the metadata informer factory to use; nil makes one.
	Informers metadatainformer.SharedInformerFactory
	// Resources are the kinds collected; nil takes every served resource
	// but events (catalog.Resources), as upstream ignores events.
	Resources []catalog.Resource
	Workers   int
	Logger    *slog.Logger
}

// Collector is the garbage collector.
type Collector struct {
	client  metadata.Interface
	factory metadatainformer.SharedInformerFactory
	ownFact bool
	res     []catalog.Resource
	byKind  map[schema.GroupVersionKind]catalog.Resource
	stores  map[schema.GroupVersionResource]cache.Indexer
	synced  []cache.InformerSynced
	queue   workqueue.TypedRateLimitingInterface[item]
	workers int
	log     *slog.Logger
}

// item names one object; the uid tells it from a namesake.
type item struct {
	GVR       schema.GroupVersionResource
	Namespace string
	Name      string
	UID       types.UID
}

func (i item) String() string {
	if i.Namespace == "" {
		return i.GVR.Resource + "/" + i.Name
	}
	return i.GVR.Resource + "/" + i.Namespace + "/" + i.Name
}

// New registers metadata informers for every collected resource; start
// Config.Informers (if given) and call Run.
func New(cfg Config) (*Collector, error) {
	if cfg.Metadata == nil {
		return nil, errors.New("garbage collector: a metadata client is required")
	}
	c := &Collector{
		client:  cfg.Metadata,
		factory: cfg.Informers,
		byKind:  map[schema.GroupVersionKind]catalog.Resource{},
		stores:  map[schema.GroupVersionResource]cache.Indexer{},
		workers: max(cfg.Workers, 1),
		log:     cfg.Logger,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.DefaultTypedControllerRateLimiter[item](),
			workqueue.TypedRateLimitingQueueConfig[item]{Name: "garbagecollector"}),
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.log = c.log.With("controller", "garbagecollector")
	if c.factory == nil {
		c.factory = metadatainformer.NewSharedInformerFactory(cfg.Metadata, 0)
		c.ownFact = true
	}
	c.res = cfg.Resources
	if c.res == nil {
		for _, r := range catalog.Resources() {
			if r.Resource != "events" && slices.Contains(r.Verbs, "watch") {
				c.res = append(c.res, r)
			}
		}
	}
	for _, r := range catalog.Resources() {
		c.byKind[r.GVK()] = r
	}
	for _, r := range c.res {
		gvr := r.GroupVersionResource
		inf := c.factory.ForResource(gvr).Informer()
		if err := inf.AddIndexers(cache.Indexers{indexUID: uidIndex, indexOwner: ownerIndex}); err != nil {
			return nil, fmt.Errorf("garbage collector: index %s: %w", gvr, err)
		}
		if _, err := inf.AddEventHandler(c.handler(gvr)); err != nil {
			return nil, fmt.Errorf("garbage collector: watch %s: %w", gvr, err)
		}
		c.stores[gvr] = inf.GetIndexer()
		c.synced = append(c.synced, inf.HasSynced)
	}
	return c, nil
}

func uidIndex(obj any) ([]string, error) {
	m, ok := obj.(*metav1.PartialObjectMetadata)
	if !ok {
		return nil, nil
	}
	return []string{string(m.UID)}, nil
}

func ownerIndex(obj any) ([]string, error) {
	m, ok := obj.(*metav1.PartialObjectMetadata)
	if !ok {
		return nil, nil
	}
	out := make([]string, 0, len(m.OwnerReferences))
	for _, r := range m.OwnerReferences {
		out = append(out, string(r.UID))
	}
	return out, nil
}

func meta(obj any) *metav1.PartialObjectMetadata {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	m, _ := obj.(*metav1.PartialObjectMetadata)
	return m
}

func (c *Collector) handler(gvr schema.GroupVersionResource) cache.ResourceEventHandler {
	itemOf := func(m *metav1.PartialObjectMetadata) item {
		return item{GVR: gvr, Namespace: m.Namespace, Name: m.Name, UID: m.UID}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if m := meta(obj); m != nil && (len(m.OwnerReferences) > 0 || m.DeletionTimestamp != nil) {
				c.queue.Add(itemOf(m))
			}
		},
		UpdateFunc: func(oldObj, obj any) {
			m := meta(obj)
			if m == nil {
				return
			}
			if len(m.OwnerReferences) > 0 || m.DeletionTimestamp != nil {
				c.queue.Add(itemOf(m))
			}
			// A dependent that lost owner references or started
			// terminating may unblock a foreground owner.
			if old := meta(oldObj); old != nil {
				c.enqueueOwners(old)
			}
		},
		DeleteFunc: func(obj any) {
			m := meta(obj)
			if m == nil {
				return
			}
			c.enqueueOwners(m)
			c.enqueueDependents(m.UID)
		},
	}
}

// enqueueOwners queues m's owners that are themselves being deleted.
func (c *Collector) enqueueOwners(m *metav1.PartialObjectMetadata) {
	for _, r := range m.OwnerReferences {
		if it, o, ok := c.cached(r.UID); ok && o.DeletionTimestamp != nil {
			c.queue.Add(it)
		}
	}
}

func (c *Collector) enqueueDependents(uid types.UID) {
	for _, d := range c.dependents(uid) {
		c.queue.Add(d.item)
	}
}

// Run waits for the caches and collects until ctx ends.
func (c *Collector) Run(ctx context.Context) error {
	defer c.queue.ShutDown()
	if c.ownFact {
		c.factory.Start(ctx.Done())
		defer c.factory.Shutdown()
	}
	if !cache.WaitForCacheSync(ctx.Done(), c.synced...) {
		return fmt.Errorf("garbage collector: wait for caches: %w", ctx.Err())
	}
	c.log.Info("started", "resources", len(c.res))
	for range c.workers {
		go wait.UntilWithContext(ctx, c.worker, time.Second)
	}
	<-ctx.Done()
	return nil
}

func (c *Collector) worker(ctx context.Context) {
	for {
		it, quit := c.queue.Get()
		if quit {
			return
		}
		err := c.process(ctx, it)
		switch {
		case errors.Is(err, errWaiting):
			c.queue.Forget(it)
			c.queue.AddAfter(it, recheck)
		case err != nil:
			c.log.Warn("collect", "object", it.String(), "err", err)
			c.queue.AddRateLimited(it)
		default:
			c.queue.Forget(it)
		}
		c.queue.Done(it)
	}
}

// errWaiting says a foreground owner still has blocking dependents.
var errWaiting = errors.New("waiting for dependents")

type object struct {
	item
	meta *metav1.PartialObjectMetadata
}

// cached finds the object with uid in the caches.
func (c *Collector) cached(uid types.UID) (item, *metav1.PartialObjectMetadata, bool) {
	for gvr, st := range c.stores {
		objs, _ := st.ByIndex(indexUID, string(uid))
		for _, o := range objs {
			if m := meta(o); m != nil {
				return item{GVR: gvr, Namespace: m.Namespace, Name: m.Name, UID: m.UID}, m, true
			}
		}
	}
	return item{}, nil, false
}

// dependents returns the cached objects with an ownerReference to uid.
func (c *Collector) dependents(uid types.UID) []object {
	var out []object
	for gvr, st := range c.stores {
		objs, _ := st.ByIndex(indexOwner, string(uid))
		for _, o := range objs {
			if m := meta(o); m != nil {
				out = append(out, object{item{GVR: gvr, Namespace: m.Namespace, Name: m.Name, UID: m.UID}, m})
			}
		}
	}
	return out
}

func (c *Collector) process(ctx context.Context, it item) error {
	st := c.stores[it.GVR]
	if st == nil {
		return nil
	}
	key := it.Name
	if it.Namespace != "" {
		key = it.Namespace + "/" + key
	}
	o, ok, err := st.GetByKey(key)
	if err != nil {
		return err
	}
	m := meta(o)
	if !ok || m == nil || m.UID != it.UID {
		// Gone (or replaced): its dependents may now be garbage.
		c.enqueueDependents(it.UID)
		return nil
	}
	if m.DeletionTimestamp != nil {
		switch {
		case slices.Contains(m.Finalizers, metav1.FinalizerOrphanDependents):
			return c.orphanDependents(ctx, it, m)
		case slices.Contains(m.Finalizers, metav1.FinalizerDeleteDependents):
			return c.deleteDependents(ctx, it, m)
		}
		return nil
	}
	if len(m.OwnerReferences) == 0 {
		return nil
	}
	return c.attemptToDelete(ctx, it, m)
}

// ownerState is what became of one owner.
type ownerState int

const (
	solid    ownerState = iota // exists
	dangling                   // gone, or replaced by a namesake
	waiting                    // being deleted in the foreground
)

// resolve finds out what became of owner r of an object in namespace ns.
func (c *Collector) resolve(ctx context.Context, ns string, r metav1.OwnerReference) (ownerState, error) {
	// An owner is in its dependent's namespace or cluster-scoped; one
	// found elsewhere is not this dependent's owner.
	if _, m, ok := c.cached(r.UID); ok && (m.Namespace == "" || m.Namespace == ns) {
		return stateOf(m), nil
	}
	// Not cached: ask the server, the cache may lag behind.
	gv, err := schema.ParseGroupVersion(r.APIVersion)
	if err != nil {
		return solid, fmt.Errorf("owner %s %s: %w", r.Kind, r.Name, err)
	}
	res, ok := c.byKind[gv.WithKind(r.Kind)]
	if !ok {
		// A kind the server does not serve: leave the object alone.
		c.log.Debug("owner of an unknown kind", "apiVersion", r.APIVersion, "kind", r.Kind, "name", r.Name)
		return solid, nil
	}
	var m *metav1.PartialObjectMetadata
	if res.Namespaced {
		if ns == "" {
			return dangling, nil // a cluster-scoped object cannot have a namespaced owner
		}
		m, err = c.client.Resource(res.GroupVersionResource).Namespace(ns).Get(ctx, r.Name, metav1.GetOptions{})
	} else {
		m, err = c.client.Resource(res.GroupVersionResource).Get(ctx, r.Name, metav1.GetOptions{})
	}
	switch {
	case apierrors.IsNotFound(err):
		return dangling, nil
	case err != nil:
		return solid, fmt.Errorf("get owner %s %s: %w", r.Kind, r.Name, err)
	case m.UID != r.UID:
		return dangling, nil
	}
	return stateOf(m), nil
}

func stateOf(m *metav1.PartialObjectMetadata) ownerState {
	if m.DeletionTimestamp != nil && slices.Contains(m.Finalizers, metav1.FinalizerDeleteDependents) {
		return waiting
	}
	return solid
}

// verdict is what attemptToDelete decided for an object.
type verdict struct {
	drop   []types.UID // owner references to remove (some owner remains)
	delete bool
	policy metav1.DeletionPropagation
}

// judge classifies m's owners: solid ones keep it (minus references to
// owners that are gone or being deleted in the foreground); without one it
// is deleted.
func (c *Collector) judge(ctx context.Context, it item, m *metav1.PartialObjectMetadata) (verdict, error) {
	var gone []types.UID
	nSolid, nWaiting := 0, 0
	for _, r := range m.OwnerReferences {
		s, err := c.resolve(ctx, it.Namespace, r)
		if err != nil {
			return verdict{}, err
		}
		switch s {
		case solid:
			nSolid++
		case dangling:
			gone = append(gone, r.UID)
		case waiting:
			nWaiting++
			gone = append(gone, r.UID)
		}
	}
	if len(m.OwnerReferences) == 0 {
		return verdict{}, nil
	}
	if nSolid > 0 {
		return verdict{drop: gone}, nil
	}
	v := verdict{delete: true, policy: metav1.DeletePropagationBackground}
	switch {
	case nWaiting > 0 && len(c.dependents(it.UID)) > 0:
		v.policy = metav1.DeletePropagationForeground
	case slices.Contains(m.Finalizers, metav1.FinalizerOrphanDependents):
		v.policy = metav1.DeletePropagationOrphan
	case slices.Contains(m.Finalizers, metav1.FinalizerDeleteDependents):
		v.policy = metav1.DeletePropagationForeground
	}
	return v, nil
}

// attemptToDelete deletes an object none of whose owners remains, or
// drops the references to owners that are gone while others remain. The
// cache may lag (a reference already removed, say), so before acting the
// object is read again from the server and judged on what it holds now.
func (c *Collector) attemptToDelete(ctx context.Context, it item, m *metav1.PartialObjectMetadata) error {
	v, err := c.judge(ctx, it, m)
	if err != nil || (!v.delete && len(v.drop) == 0) {
		return err
	}
	latest, err := c.resource(it).Get(ctx, it.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get %s: %w", it, err)
	}
	if latest.UID != it.UID || latest.DeletionTimestamp != nil {
		return nil
	}
	if v, err = c.judge(ctx, it, latest); err != nil {
		return err
	}
	switch {
	case v.delete:
		c.log.Info("deleting object whose owners are gone", "object", it.String(), "propagationPolicy", v.policy)
		return c.delete(ctx, it, v.policy)
	case len(v.drop) > 0:
		c.log.Info("removing references to deleted owners", "object", it.String(), "owners", v.drop)
		return c.removeOwnerRefs(ctx, it, latest, v.drop)
	}
	return nil
}

func (c *Collector) resource(it item) metadata.ResourceInterface {
	if it.Namespace == "" {
		return c.client.Resource(it.GVR)
	}
	return c.client.Resource(it.GVR).Namespace(it.Namespace)
}

func (c *Collector) delete(ctx context.Context, it item, policy metav1.DeletionPropagation) error {
	uid := it.UID
	err := c.resource(it).Delete(ctx, it.Name, metav1.DeleteOptions{
		Preconditions:     &metav1.Preconditions{UID: &uid},
		PropagationPolicy: &policy,
	})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil // gone or replaced: nothing left to do for this uid
	}
	if err != nil {
		return fmt.Errorf("delete %s: %w", it, err)
	}
	return nil
}

// patchMeta writes fields of metadata with a merge patch that carries the
// object's uid and resourceVersion, so that it applies to the version read
// or fails with a conflict.
func (c *Collector) patchMeta(ctx context.Context, it item, m *metav1.PartialObjectMetadata, fields map[string]any) error {
	md := map[string]any{"uid": m.UID, "resourceVersion": m.ResourceVersion}
	for k, v := range fields {
		md[k] = v
	}
	data, err := json.Marshal(map[string]any{"metadata": md})
	if err != nil {
		return err
	}
	_, err = c.resource(it).Patch(ctx, it.Name, types.MergePatchType, data, metav1.PatchOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("patch %s: %w", it, err)
	}
	return nil
}

func (c *Collector) removeOwnerRefs(ctx context.Context, it item, m *metav1.PartialObjectMetadata, uids []types.UID) error {
	refs := slices.DeleteFunc(slices.Clone(m.OwnerReferences), func(r metav1.OwnerReference) bool {
		return slices.Contains(uids, r.UID)
	})
	var v any = refs
	if len(refs) == 0 {
		v = nil
	}
	return c.patchMeta(ctx, it, m, map[string]any{"ownerReferences": v})
}

func (c *Collector) removeFinalizer(ctx context.Context, it item, m *metav1.PartialObjectMetadata, f string) error {
	fs := slices.DeleteFunc(slices.Clone(m.Finalizers), func(s string) bool { return s == f })
	var v any = fs
	if len(fs) == 0 {
		v = nil
	}
	return c.patchMeta(ctx, it, m, map[string]any{"finalizers": v})
}

// orphanDependents drops the owner's reference from every dependent and
// then the orphan finalizer.
func (c *Collector) orphanDependents(ctx context.Context, it item, m *metav1.PartialObjectMetadata) error {
	var errs []error
	for _, d := range c.dependents(it.UID) {
		if err := c.removeOwnerRefs(ctx, d.item, d.meta, []types.UID{it.UID}); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("orphan dependents of %s: %w", it, err)
	}
	c.log.Info("orphaned dependents", "owner", it.String())
	return c.removeFinalizer(ctx, it, m, metav1.FinalizerOrphanDependents)
}

// deleteDependents deletes the owner's dependents, the blocking ones
// first, and removes the foregroundDeletion finalizer once no blocking
// dependent remains.
func (c *Collector) deleteDependents(ctx context.Context, it item, m *metav1.PartialObjectMetadata) error {
	deps := c.dependents(it.UID)
	slices.SortStableFunc(deps, func(a, b object) int {
		ab, bb := blocks(a.meta, it.UID), blocks(b.meta, it.UID)
		switch {
		case ab && !bb:
			return -1
		case bb && !ab:
			return 1
		}
		return 0
	})
	blocking := 0
	var errs []error
	for _, d := range deps {
		if blocks(d.meta, it.UID) {
			blocking++
		}
		if d.meta.DeletionTimestamp != nil {
			continue // already on its way out
		}
		// The dependent's other owners decide: attemptToDelete sees this
		// owner waiting and deletes it, or drops the reference if another
		// owner remains.
		if err := c.attemptToDelete(ctx, d.item, d.meta); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("delete dependents of %s: %w", it, err)
	}
	if blocking > 0 {
		return errWaiting
	}
	c.log.Info("dependents deleted; finishing foreground deletion", "owner", it.String())
	return c.removeFinalizer(ctx, it, m, metav1.FinalizerDeleteDependents)
}

func blocks(m *metav1.PartialObjectMetadata, owner types.UID) bool {
	for _, r := range m.OwnerReferences {
		if r.UID == owner && r.BlockOwnerDeletion != nil && *r.BlockOwnerDeletion {
			return true
		}
	}
	return false
}
