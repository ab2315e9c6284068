package registry

import (
	"slices"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// namespaceStrategy: new namespaces get the kubernetes finalizer and phase
// Active; spec.finalizers change only through namespaces/finalize.
type namespaceStrategy struct{ kind[*corev1.Namespace] }

func newNamespaceStrategy() Strategy {
	return namespaceStrategy{kind[*corev1.Namespace]{
		name:     apivalidation.ValidateNamespaceName,
		status:   true,
		defaults: defaultNamespace,
		create: func(ns *corev1.Namespace) {
			ns.Status = corev1.NamespaceStatus{Phase: corev1.NamespaceActive}
			if !slices.Contains(ns.Spec.Finalizers, corev1.FinalizerKubernetes) {
				ns.Spec.Finalizers = append(ns.Spec.Finalizers, corev1.FinalizerKubernetes)
			}
		},
		update: func(ns, old *corev1.Namespace) {
			ns.Spec.Finalizers = slices.Clone(old.Spec.Finalizers)
		},
		validate:       validateNamespace,
		validateStatus: validateNamespaceStatus,
	}}
}

// PrepareForFinalizeUpdate keeps everything of old but spec.finalizers.
func (s namespaceStrategy) PrepareForFinalizeUpdate(obj, old runtime.Object) {
	ns, ok1 := obj.(*corev1.Namespace)
	o, ok2 := old.(*corev1.Namespace)
	if !ok1 || !ok2 {
		return
	}
	finalizers, rv, managed := ns.Spec.Finalizers, ns.ResourceVersion, ns.ManagedFields
	*ns = *o.DeepCopy()
	ns.Spec.Finalizers, ns.ResourceVersion, ns.ManagedFields = finalizers, rv, managed
}

// ValidateFinalizeUpdate checks metadata and the finalizer names.
func (s namespaceStrategy) ValidateFinalizeUpdate(obj, old runtime.Object) field.ErrorList {
	ns, ok1 := obj.(*corev1.Namespace)
	o, ok2 := old.(*corev1.Namespace)
	if !ok1 || !ok2 {
		return wrongType(obj)
	}
	errs := apivalidation.ValidateObjectMetaUpdate(&ns.ObjectMeta, &o.ObjectMeta, metadataPath)
	return append(errs, validateNamespace(ns)...)
}

func nodeStrategy() Strategy {
	return kind[*corev1.Node]{
		name:               apivalidation.NameIsDNSSubdomain,
		status:             true,
		keepStatusOnCreate: true, // the kubelet registers its node with status
		defaults:           defaultNode,
		validate:           validateNode,
		validateUpdate:     validateNodeUpdate,
		validateStatus:     validateNodeStatus,
	}
}

func configMapStrategy() Strategy {
	return kind[*corev1.ConfigMap]{
		namespaced:     true,
		name:           apivalidation.NameIsDNSSubdomain,
		validate:       validateConfigMap,
		validateUpdate: validateConfigMapUpdate,
	}
}

func secretStrategy() Strategy {
	return kind[*corev1.Secret]{
		namespaced:     true,
		name:           apivalidation.NameIsDNSSubdomain,
		defaults:       defaultSecret,
		validate:       validateSecret,
		validateUpdate: validateSecretUpdate,
	}
}

func endpointsStrategy() Strategy {
	return kind[*corev1.Endpoints]{
		namespaced: true,
		name:       apivalidation.NameIsDNSSubdomain,
		defaults:   defaultEndpoints,
		validate:   validateEndpoints,
	}
}

func serviceAccountStrategy() Strategy {
	return kind[*corev1.ServiceAccount]{
		namespaced: true,
		name:       apivalidation.ValidateServiceAccountName,
	}
}

func coreEventStrategy() Strategy {
	return kind[*corev1.Event]{
		namespaced: true,
		name:       apivalidation.NameIsDNSSubdomain,
		validate:   validateCoreEvent,
	}
}

func eventsEventStrategy() Strategy {
	return kind[*eventsv1.Event]{
		namespaced: true,
		name:       apivalidation.NameIsDNSSubdomain,
		validate:   validateEventsEvent,
	}
}

func leaseStrategy() Strategy {
	return kind[*coordinationv1.Lease]{
		namespaced: true,
		name:       apivalidation.NameIsDNSSubdomain,
		validate:   validateLease,
	}
}
