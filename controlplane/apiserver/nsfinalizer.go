package apiserver

import (
	"context"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"rudder/controlplane/apiserver/objectstore"
	"rudder/controlplane/catalog"
	"rudder/controlplane/storage"
)

// Namespace deletion, until the namespace controller lands: the server
// empties a terminating namespace and then removes its "kubernetes"
// finalizer, which lets the namespace go. Pods are deleted with a zero grace
// period here; the controller will do it gracefully.

// resumeNamespaceDeletions restarts the deletion of namespaces that were
// terminating when the server stopped.
func (s *Server) resumeNamespaceDeletions(ctx context.Context) error {
	if s.cfg.NamespaceController {
		return nil
	}
	res, err := s.objects.List(ctx, namespaceResource, "", storage.ListOptions{})
	if err != nil {
		return fmt.Errorf("list namespaces: %w", err)
	}
	for _, obj := range res.Items {
		ns := obj.(*corev1.Namespace)
		if ns.DeletionTimestamp != nil {
			go s.finalizeNamespace(ns.Name)
		}
	}
	return nil
}

// finalizeNamespace deletes everything in the namespace and finalizes it,
// retrying until it succeeds or the namespace is gone.
func (s *Server) finalizeNamespace(name string) {
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Minute)
	defer cancel()
	for delay := 100 * time.Millisecond; ; delay = min(delay*2, 10*time.Second) {
		err := s.emptyNamespace(ctx, name)
		if err == nil {
			err = s.removeNamespaceFinalizer(ctx, name)
		}
		if err == nil || apierrors.IsNotFound(err) {
			return
		}
		s.log.Warn("finalize namespace", "namespace", name, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}

func (s *Server) emptyNamespace(ctx context.Context, ns string) error {
	zero := int64(0)
	opts := &metav1.DeleteOptions{GracePeriodSeconds: &zero}
	for _, res := range catalog.Resources() {
		if !res.Namespaced {
			continue
		}
		list, err := s.objects.List(ctx, res, ns, storage.ListOptions{})
		if err != nil {
			return err
		}
		q := &request{res: res, namespace: ns, strategy: nil}
		for _, obj := range list.Items {
			if err := s.forceDelete(ctx, q, obj, opts); err != nil {
				return err
			}
		}
	}
	return nil
}

// forceDelete deletes obj, dropping the finalizers the server itself
// understands (there is no garbage collector yet to honour them).
func (s *Server) forceDelete(ctx context.Context, q *request, obj runtime.Object, opts *metav1.DeleteOptions) error {
	acc, _ := meta.Accessor(obj)
	_, _, err := s.deleteObject(ctx, q, acc.GetName(), opts)
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

func (s *Server) removeNamespaceFinalizer(ctx context.Context, name string) error {
	obj, err := s.objects.GuaranteedUpdate(ctx, namespaceResource, "", name, func(cur runtime.Object) (runtime.Object, error) {
		ns := cur.(*corev1.Namespace)
		ns.Spec.Finalizers = slices.DeleteFunc(ns.Spec.Finalizers, func(f corev1.FinalizerName) bool { return f == corev1.FinalizerKubernetes })
		return ns, nil
	})
	if err != nil {
		return storageErr(err, namespaceResource.GroupResource(), name)
	}
	ns := obj.(*corev1.Namespace)
	if len(ns.Spec.Finalizers) > 0 || len(ns.Finalizers) > 0 {
		return nil
	}
	acc, _ := meta.Accessor(obj)
	rev, _ := objectstore.ParseResourceVersion(acc.GetResourceVersion())
	_, err = s.objects.Delete(ctx, namespaceResource, "", name, rev)
	return storageErr(err, namespaceResource.GroupResource(), name)
}
