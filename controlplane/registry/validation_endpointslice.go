package registry

import (
	"fmt"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Upstream's EndpointSlice limits.
const (
	maxSliceAddresses = 100
	maxSlicePorts     = 20000
	maxSliceEndpoints = 1000
)

var supportedAddressTypes = []string{"FQDN", "IPv4", "IPv6"}

func validateEndpointSlice(es *discoveryv1.EndpointSlice) field.ErrorList {
	errs := requiredEnum(es.AddressType, supportedAddressTypes, field.NewPath("addressType"))
	ep := field.NewPath("endpoints")
	if len(es.Endpoints) > maxSliceEndpoints {
		errs = append(errs, field.TooMany(ep, len(es.Endpoints), maxSliceEndpoints))
	}
	for i := range es.Endpoints {
		errs = append(errs, validateSliceEndpoint(&es.Endpoints[i], es.AddressType, ep.Index(i))...)
	}
	return append(errs, validateSlicePorts(es.Ports, field.NewPath("ports"))...)
}

func validateSliceEndpoint(e *discoveryv1.Endpoint, t discoveryv1.AddressType, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	ap := path.Child("addresses")
	if len(e.Addresses) == 0 {
		errs = append(errs, field.Required(ap, "must contain at least 1 address"))
	} else if len(e.Addresses) > maxSliceAddresses {
		errs = append(errs, field.TooMany(ap, len(e.Addresses), maxSliceAddresses))
	}
	for i, a := range e.Addresses {
		errs = append(errs, validateSliceAddress(a, t, ap.Index(i))...)
	}
	if e.NodeName != nil {
		errs = append(errs, validateDNS1123Subdomain(*e.NodeName, path.Child("nodeName"))...)
	}
	if e.Hostname != nil {
		errs = append(errs, validateDNS1123Label(*e.Hostname, path.Child("hostname"))...)
	}
	return errs
}

func validateSliceAddress(a string, t discoveryv1.AddressType, path *field.Path) field.ErrorList {
	switch t {
	case discoveryv1.AddressTypeIPv4:
		if !isIPv4(a) {
			return field.ErrorList{field.Invalid(path, a, "must be a valid IPv4 address")}
		}
		return validateIP(a, path)
	case discoveryv1.AddressTypeIPv6:
		if !isIPv6(a) {
			return field.ErrorList{field.Invalid(path, a, "must be a valid IPv6 address")}
		}
		return validateIP(a, path)
	case discoveryv1.AddressTypeFQDN:
		return validateDNS1123Subdomain(a, path)
	}
	return nil
}

func validateSlicePorts(ports []discoveryv1.EndpointPort, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(ports) > maxSlicePorts {
		errs = append(errs, field.TooMany(path, len(ports), maxSlicePorts))
	}
	names := sets.New[string]()
	for i, p := range ports {
		pp := path.Index(i)
		if p.Name != nil && *p.Name != "" {
			errs = append(errs, validateDNS1123Label(*p.Name, pp.Child("name"))...)
		}
		name := ""
		if p.Name != nil {
			name = *p.Name
		}
		if names.Has(name) {
			errs = append(errs, field.Duplicate(pp.Child("name"), name))
		}
		names.Insert(name)
		if p.Protocol == nil {
			errs = append(errs, field.Required(pp.Child("protocol"), ""))
		} else {
			errs = append(errs, requiredEnum(*p.Protocol, supportedProtocols, pp.Child("protocol"))...)
		}
		if p.Port != nil {
			errs = append(errs, validatePortNum(*p.Port, pp.Child("port"))...)
		}
		if p.AppProtocol != nil {
			errs = append(errs, invalidEach(pp.Child("appProtocol"), *p.AppProtocol, appProtocolErrors(*p.AppProtocol))...)
		}
	}
	return errs
}

// appProtocolErrors: a bare IANA name or a domain-prefixed name.
func appProtocolErrors(s string) []string {
	if msgs := validation.IsQualifiedName(s); len(msgs) > 0 {
		return []string{fmt.Sprintf("must be a valid protocol name: %s", msgs[0])}
	}
	return nil
}
