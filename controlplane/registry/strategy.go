// Package registry holds the per-resource rules of the apiserver: defaulting
// as upstream's defaulters do it, validation phrased like upstream, what a
// create or an update may change, and the allocation of Service cluster IPs
// and node ports.
package registry

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Strategy is what the REST layer asks of a resource kind. Objects are the
// typed k8s.io/api structs (*corev1.Pod, *appsv1.Deployment, ...).
// Implementations are stateless and safe for concurrent use.
//
// The REST layer calls, on create: Default, then (after it has set the
// system fields metadata.uid and creationTimestamp and generated the name
// from generateName) PrepareForCreate, then Validate. On update of the main
// resource: Default, PrepareForUpdate, then ValidateUpdate (obj must carry a
// resourceVersion; for an unconditional update the REST layer copies old's).
// On update of the status subresource: Default, PrepareForStatusUpdate,
// then ValidateStatusUpdate if the strategy implements StatusValidator, else
// ValidateUpdate. Services then go through a ServiceAllocator (see
// AllocateCreate, AllocateUpdate, Release). A method given an object of
// another kind does nothing (the Validate methods return an internal error).
type Strategy interface {
	// Default fills in unset fields as the upstream defaulters do. It runs on
	// every create and update body before anything else.
	Default(obj runtime.Object)
	// PrepareForCreate resets what a client may not set on create: status
	// for kinds with a status subresource (Pod gets phase Pending and its
	// QoS class, Namespace phase Active; Node keeps the status the kubelet
	// registers), metadata.generation = 1 for kinds that track it, and
	// what upstream's admission adds on create (Pod: default tolerations,
	// priority, service account; Job: generated selector and labels, which
	// need metadata.uid).
	PrepareForCreate(obj runtime.Object)
	// PrepareForUpdate makes an update of the main resource keep old's
	// status (kinds with a status subresource), sets metadata.generation
	// from old and bumps it when the spec changed.
	PrepareForUpdate(obj, old runtime.Object)
	// PrepareForStatusUpdate makes a status update change only the status:
	// everything else is taken from old, except metadata.resourceVersion
	// and metadata.managedFields, which stay as the REST layer set them.
	PrepareForStatusUpdate(obj, old runtime.Object)
	// Validate checks a new object (after Default and PrepareForCreate).
	Validate(obj runtime.Object) field.ErrorList
	// ValidateUpdate checks an update, including immutable fields.
	ValidateUpdate(obj, old runtime.Object) field.ErrorList
}

// StatusValidator is implemented by strategies of kinds with a status
// subresource. The REST layer uses it, after PrepareForStatusUpdate, in
// place of ValidateUpdate for status updates.
type StatusValidator interface {
	ValidateStatusUpdate(obj, old runtime.Object) field.ErrorList
}

// FinalizeStrategy is implemented by the Namespace strategy for the
// namespaces/finalize subresource, which changes only spec.finalizers.
type FinalizeStrategy interface {
	PrepareForFinalizeUpdate(obj, old runtime.Object)
	ValidateFinalizeUpdate(obj, old runtime.Object) field.ErrorList
}

// For returns the strategy of a kind; kinds without their own rules get a
// generic one that validates object metadata only.
func For(gk schema.GroupKind) Strategy {
	if s, ok := strategies()[gk]; ok {
		return s
	}
	return genericStrategy{namespaced: namespaced(gk)}
}
