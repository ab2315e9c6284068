package gc

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"
)

// DynamicMetadata serves the metadata client interface over a dynamic
// client: whole objects travel and only their metadata is kept. It stands
// in for metadata.NewForConfig against a server whose PartialObjectMetadata
// answers lack fields the collector needs (ownerReferences, finalizers,
// deletionTimestamp), as rudder's apiserver's do at the time of writing.
func DynamicMetadata(client dynamic.Interface) metadata.Interface {
	return dynamicMeta{client}
}

type dynamicMeta struct{ client dynamic.Interface }

func (d dynamicMeta) Resource(gvr schema.GroupVersionResource) metadata.Getter {
	return dynamicMetaResource{res: d.client.Resource(gvr)}
}

type dynamicMetaResource struct {
	res dynamic.NamespaceableResourceInterface
	ns  dynamic.ResourceInterface // set by Namespace
}

func (r dynamicMetaResource) Namespace(ns string) metadata.ResourceInterface {
	return dynamicMetaResource{res: r.res, ns: r.res.Namespace(ns)}
}

func (r dynamicMetaResource) client() dynamic.ResourceInterface {
	if r.ns != nil {
		return r.ns
	}
	return r.res
}

func (r dynamicMetaResource) Delete(ctx context.Context, name string, opts metav1.DeleteOptions, sub ...string) error {
	return r.client().Delete(ctx, name, opts, sub...)
}

func (r dynamicMetaResource) DeleteCollection(ctx context.Context, opts metav1.DeleteOptions, list metav1.ListOptions) error {
	return r.client().DeleteCollection(ctx, opts, list)
}

func (r dynamicMetaResource) Get(ctx context.Context, name string, opts metav1.GetOptions, sub ...string) (*metav1.PartialObjectMetadata, error) {
	u, err := r.client().Get(ctx, name, opts, sub...)
	if err != nil {
		return nil, err
	}
	return partial(u), nil
}

func (r dynamicMetaResource) List(ctx context.Context, opts metav1.ListOptions) (*metav1.PartialObjectMetadataList, error) {
	l, err := r.client().List(ctx, opts)
	if err != nil {
		return nil, err
	}
	out := &metav1.PartialObjectMetadataList{
		TypeMeta: metav1.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "PartialObjectMetadataList"},
		ListMeta: metav1.ListMeta{ResourceVersion: l.GetResourceVersion(), Continue: l.GetContinue(), RemainingItemCount: l.GetRemainingItemCount()},
		Items:    make([]metav1.PartialObjectMetadata, 0, len(l.Items)),
	}
	for i := range l.Items {
		out.Items = append(out.Items, *partial(&l.Items[i]))
	}
	return out, nil
}

func (r dynamicMetaResource) Watch(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
	w, err := r.client().Watch(ctx, opts)
	if err != nil {
		return nil, err
	}
	return watch.Filter(w, func(e watch.Event) (watch.Event, bool) {
		if u, ok := e.Object.(*unstructured.Unstructured); ok {
			e.Object = partial(u)
		}
		return e, true
	}), nil
}

func (r dynamicMetaResource) Patch(ctx context.Context, name string, pt types.PatchType, data []byte, opts metav1.PatchOptions, sub ...string) (*metav1.PartialObjectMetadata, error) {
	u, err := r.client().Patch(ctx, name, pt, data, opts, sub...)
	if err != nil {
		return nil, err
	}
	return partial(u), nil
}

// partial keeps an object's type and metadata.
func partial(u *unstructured.Unstructured) *metav1.PartialObjectMetadata {
	out := &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: u.GetAPIVersion(), Kind: u.GetKind()}}
	if m, ok := u.Object["metadata"].(map[string]any); ok {
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, &out.ObjectMeta); err == nil {
			return out
		}
	}
	// Malformed metadata: keep what the accessors can read.
	out.ObjectMeta = metav1.ObjectMeta{Name: u.GetName(), Namespace: u.GetNamespace(), UID: u.GetUID(),
		ResourceVersion: u.GetResourceVersion(), OwnerReferences: u.GetOwnerReferences(),
		Finalizers: u.GetFinalizers(), DeletionTimestamp: u.GetDeletionTimestamp(), Labels: u.GetLabels()}
	return out
}
