package registry

import (
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func ingressStrategy() Strategy {
	return kind[*networkingv1.Ingress]{
		namespaced:     true,
		name:           apivalidation.NameIsDNSSubdomain,
		status:         true,
		generation:     true,
		validate:       validateIngress,
		validateStatus: validateIngressStatus,
	}
}

func ingressClassStrategy() Strategy {
	return kind[*networkingv1.IngressClass]{
		name:       apivalidation.NameIsDNSSubdomain,
		generation: true,
		defaults:   defaultIngressClass,
		validate:   validateIngressClass,
		validateUpdate: func(ic, old *networkingv1.IngressClass) field.ErrorList {
			return immutable(ic.Spec.Controller, old.Spec.Controller, specPath.Child("controller"))
		},
	}
}

func networkPolicyStrategy() Strategy {
	return kind[*networkingv1.NetworkPolicy]{
		namespaced: true,
		name:       apivalidation.NameIsDNSSubdomain,
		generation: true,
		defaults:   defaultNetworkPolicy,
		validate:   validateNetworkPolicy,
	}
}

// endpointSliceStrategy: the generation grows on any change but metadata.
func endpointSliceStrategy() Strategy {
	return kind[*discoveryv1.EndpointSlice]{
		namespaced: true,
		name:       apivalidation.NameIsDNSSubdomain,
		generation: true,
		spec: func(es *discoveryv1.EndpointSlice) any {
			return struct {
				AddressType discoveryv1.AddressType
				Endpoints   []discoveryv1.Endpoint
				Ports       []discoveryv1.EndpointPort
			}{es.AddressType, es.Endpoints, es.Ports}
		},
		defaults: defaultEndpointSlice,
		validate: validateEndpointSlice,
		validateUpdate: func(es, old *discoveryv1.EndpointSlice) field.ErrorList {
			return immutable(es.AddressType, old.AddressType, field.NewPath("addressType"))
		},
	}
}
