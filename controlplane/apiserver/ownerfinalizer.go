package apiserver

import (
	"context"
	"errors"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"rudder/controlplane/catalog"
	"rudder/controlplane/storage"
)

// Until the garbage collector lands (Config.GarbageCollector), the server
// itself honours the two finalizers a delete's propagationPolicy records,
// so that `kubectl delete --cascade=orphan|foreground` completes:
//
//   - orphan: dependents lose their ownerReference to the object, then the
//     finalizer goes and the object is removed;
//   - foregroundDeletion: dependents are deleted first, then the object.
//
// Background deletion of dependents is the collector's job and waits for it.

// handleOwnerFinalizers starts the work for an object that was just marked
// for deletion with an orphan or foregroundDeletion finalizer.
func (s *Server) handleOwnerFinalizers(q *request, obj runtime.Object) {
	if s.cfg.GarbageCollector {
		return
	}
	acc, _ := meta.Accessor(obj)
	fs := acc.GetFinalizers()
	orphan := slices.Contains(fs, metav1.FinalizerOrphanDependents)
	foreground := slices.Contains(fs, metav1.FinalizerDeleteDependents)
	if !orphan && !foreground {
		return
	}
	go s.finishOwnerDeletion(q, acc.GetNamespace(), acc.GetName(), acc.GetUID(), orphan)
}

func (s *Server) finishOwnerDeletion(q *request, ns, name string, uid types.UID, orphan bool) {
	ctx, cancel := context.WithTimeout(s.ctx, 5*time.Minute)
	defer cancel()
	for delay := 50 * time.Millisecond; ctx.Err() == nil; delay = min(delay*2, 5*time.Second) {
		err := s.releaseDependents(ctx, ns, uid, orphan)
		if err == nil {
			err = s.dropOwnerFinalizers(ctx, q, name)
		}
		if err == nil || apierrors.IsNotFound(err) {
			return
		}
		s.log.Warn("finish owner deletion", "namespace", ns, "name", name, "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(delay):
		}
	}
}

// releaseDependents orphans or deletes every object owned by uid. Owners
// and dependents share a namespace (or the owner is cluster-scoped).
func (s *Server) releaseDependents(ctx context.Context, ns string, uid types.UID, orphan bool) error {
	for _, res := range catalog.Resources() {
		list, err := s.objects.List(ctx, res, ns, storage.ListOptions{})
		if err != nil {
			return err
		}
		for _, obj := range list.Items {
			if !ownedBy(obj, uid) {
				continue
			}
			acc, _ := meta.Accessor(obj)
			dq := &request{res: res, namespace: acc.GetNamespace(), name: acc.GetName(), strategy: s.strategy(res)}
			if orphan {
				err = s.systemUpdate(ctx, dq, "garbage-collector", func(cur runtime.Object) {
					ca, _ := meta.Accessor(cur)
					ca.SetOwnerReferences(slices.DeleteFunc(ca.GetOwnerReferences(), func(r metav1.OwnerReference) bool { return r.UID == uid }))
				})
			} else {
				_, _, err = s.deleteObject(ctx, dq, acc.GetName(), &metav1.DeleteOptions{})
			}
			if err != nil && !apierrors.IsNotFound(storageErr(err, res.GroupResource(), acc.GetName())) {
				return err
			}
		}
	}
	return nil
}

func ownedBy(obj runtime.Object, uid types.UID) bool {
	acc, err := meta.Accessor(obj)
	if err != nil {
		return false
	}
	for _, r := range acc.GetOwnerReferences() {
		if r.UID == uid {
			return true
		}
	}
	return false
}

// dropOwnerFinalizers removes the two finalizers; an object left without
// finalizers is then deleted by the update path.
func (s *Server) dropOwnerFinalizers(ctx context.Context, q *request, name string) error {
	for {
		cur, err := s.objects.Get(ctx, q.res, q.namespace, name)
		if err != nil {
			return storageErr(err, q.gr(), name)
		}
		next := cur.DeepCopyObject()
		acc, _ := meta.Accessor(next)
		acc.SetFinalizers(slices.DeleteFunc(acc.GetFinalizers(), func(f string) bool {
			return f == metav1.FinalizerOrphanDependents || f == metav1.FinalizerDeleteDependents
		}))
		_, err = s.store(ctx, q, cur, next, writeOptions{})
		if err == nil || !apierrors.IsConflict(storageErr(err, q.gr(), name)) {
			return err
		}
	}
}

// systemUpdate changes an object on the server's own behalf through the
// full update path (defaulting, validation, managed fields), retrying on
// conflicts.
func (s *Server) systemUpdate(ctx context.Context, q *request, manager string, mutate func(runtime.Object)) error {
	for {
		cur, err := s.objects.Get(ctx, q.res, q.namespace, q.name)
		if err != nil {
			return storageErr(err, q.gr(), q.name)
		}
		next := cur.DeepCopyObject()
		mutate(next)
		_, err = s.updateFrom(ctx, q, cur, next, writeOptions{fieldManager: manager}, "update")
		if err == nil || !errors.Is(err, storage.ErrConflict) {
			return err
		}
	}
}
