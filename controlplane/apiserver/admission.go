package apiserver

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"

	"rudder/controlplane/catalog"
	"rudder/controlplane/registry"
	"rudder/controlplane/storage"
)

var namespaceResource, _ = catalog.Lookup(corev1.SchemeGroupVersion.WithResource("namespaces"))

// admitNamespace is upstream's NamespaceLifecycle: namespaced objects are
// created only in namespaces that exist and are not terminating.
func (s *Server) admitNamespace(ctx context.Context, q *request) error {
	if !q.res.Namespaced {
		return nil
	}
	obj, err := s.objects.Get(ctx, namespaceResource, "", q.namespace)
	if err != nil {
		return storageErr(err, namespaceResource.GroupResource(), q.namespace)
	}
	ns := obj.(*corev1.Namespace)
	if ns.DeletionTimestamp != nil || ns.Status.Phase == corev1.NamespaceTerminating {
		return apierrors.NewForbidden(q.gr(), "", fmt.Errorf("unable to create new content in namespace %s because it is being terminated", q.namespace))
	}
	return nil
}

// serviceAllocator hands out cluster IPs and node ports.
type serviceAllocator interface {
	AllocateCreate(ctx context.Context, svc *corev1.Service) (rollback func(), err error)
	AllocateUpdate(ctx context.Context, svc, old *corev1.Service) (commit, rollback func(), err error)
	Release(ctx context.Context, svc *corev1.Service) error
	Repair(ctx context.Context, services []corev1.Service) error
}

// repairServiceAllocations rebuilds the allocation bitmaps from the stored
// Services before serving, reclaiming what a crash between allocation and
// create leaked.
func (s *Server) repairServiceAllocations(ctx context.Context) error {
	if s.services == nil {
		return nil
	}
	res, _ := catalog.Lookup(corev1.SchemeGroupVersion.WithResource("services"))
	list, err := s.objects.List(ctx, res, "", storage.ListOptions{})
	if err != nil {
		return fmt.Errorf("list services: %w", err)
	}
	svcs := make([]corev1.Service, 0, len(list.Items))
	for _, obj := range list.Items {
		svcs = append(svcs, *obj.(*corev1.Service))
	}
	return s.services.Repair(ctx, svcs)
}

func (s *Server) allocateCreate(ctx context.Context, q *request, obj runtime.Object) (func(), error) {
	if svc, ok := obj.(*corev1.Service); ok && s.services != nil {
		rollback, err := s.services.AllocateCreate(ctx, svc)
		return rollback, allocationErr(q, svc.Name, err)
	}
	return func() {}, nil
}

// allocationErr turns the allocator's field errors into a 422.
func allocationErr(q *request, name string, err error) error {
	var inv *registry.InvalidError
	if errors.As(err, &inv) {
		return apierrors.NewInvalid(q.res.GVK().GroupKind(), name, inv.Errs)
	}
	return err
}

func (s *Server) allocateUpdate(ctx context.Context, q *request, old, next runtime.Object) (commit, rollback func(), err error) {
	svc, ok := next.(*corev1.Service)
	if ok && s.services != nil {
		commit, rollback, err = s.services.AllocateUpdate(ctx, svc, old.(*corev1.Service))
		return commit, rollback, allocationErr(q, svc.Name, err)
	}
	return func() {}, func() {}, nil
}

// afterDelete releases what a deleted object held.
func (s *Server) afterDelete(ctx context.Context, q *request, obj runtime.Object) {
	if svc, ok := obj.(*corev1.Service); ok && s.services != nil {
		if err := s.services.Release(ctx, svc); err != nil {
			s.log.Error("release service addresses", "service", svc.Namespace+"/"+svc.Name, "err", err)
		}
	}
}
