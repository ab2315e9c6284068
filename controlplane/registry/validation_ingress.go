package registry

import (
	"net/netip"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var supportedPathTypes = []string{"Exact", "ImplementationSpecific", "Prefix"}

// Paths of type Exact and Prefix may not contain these, as upstream.
var invalidPathSequences = []string{"//", "/./", "/../", "%2f", "%2F"}
var invalidPathSuffixes = []string{"/..", "/."}

func validateIngress(ing *networkingv1.Ingress) field.ErrorList {
	spec := &ing.Spec
	var errs field.ErrorList
	if len(spec.Rules) == 0 && spec.DefaultBackend == nil {
		errs = append(errs, field.Invalid(specPath, spec.Rules, "either `defaultBackend` or `rules` must be specified"))
	}
	if spec.DefaultBackend != nil {
		errs = append(errs, validateIngressBackend(spec.DefaultBackend, specPath.Child("defaultBackend"))...)
	}
	for i, r := range spec.Rules {
		errs = append(errs, validateIngressRule(&r, specPath.Child("rules").Index(i))...)
	}
	for i, t := range spec.TLS {
		for j, h := range t.Hosts {
			errs = append(errs, validateIngressHost(h, specPath.Child("tls").Index(i).Child("hosts").Index(j))...)
		}
		if t.SecretName != "" {
			errs = append(errs, validateDNS1123Subdomain(t.SecretName, specPath.Child("tls").Index(i).Child("secretName"))...)
		}
	}
	if spec.IngressClassName != nil {
		errs = append(errs, validateDNS1123Subdomain(*spec.IngressClassName, specPath.Child("ingressClassName"))...)
	}
	return errs
}

func validateIngressRule(r *networkingv1.IngressRule, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if r.Host != "" {
		errs = append(errs, validateIngressHost(r.Host, path.Child("host"))...)
	}
	if r.HTTP == nil {
		return errs
	}
	hp := path.Child("http", "paths")
	if len(r.HTTP.Paths) == 0 {
		errs = append(errs, field.Required(hp, ""))
	}
	for i := range r.HTTP.Paths {
		errs = append(errs, validateHTTPPath(&r.HTTP.Paths[i], hp.Index(i))...)
	}
	return errs
}

// validateIngressHost: a DNS name, optionally with a leading "*." wildcard,
// never an IP address.
func validateIngressHost(host string, path *field.Path) field.ErrorList {
	if _, err := netip.ParseAddr(host); err == nil {
		return field.ErrorList{field.Invalid(path, host, "must be a DNS name, not an IP address")}
	}
	if strings.Contains(host, "*") {
		return invalidEach(path, host, validation.IsWildcardDNS1123Subdomain(host))
	}
	return validateDNS1123Subdomain(host, path)
}

func validateHTTPPath(p *networkingv1.HTTPIngressPath, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	pp := path.Child("path")
	if p.PathType == nil {
		errs = append(errs, field.Required(path.Child("pathType"), "pathType must be specified"))
	} else {
		errs = append(errs, requiredEnum(*p.PathType, supportedPathTypes, path.Child("pathType"))...)
		switch *p.PathType {
		case networkingv1.PathTypeExact, networkingv1.PathTypePrefix:
			if !strings.HasPrefix(p.Path, "/") {
				errs = append(errs, field.Invalid(pp, p.Path, "must be an absolute path"))
			}
			errs = append(errs, validatePathSequences(p.Path, pp)...)
		case networkingv1.PathTypeImplementationSpecific:
			if p.Path != "" && !strings.HasPrefix(p.Path, "/") {
				errs = append(errs, field.Invalid(pp, p.Path, "must be an absolute path"))
			}
		}
	}
	return append(errs, validateIngressBackend(&p.Backend, path.Child("backend"))...)
}

func validatePathSequences(p string, path *field.Path) field.ErrorList {
	for _, seq := range invalidPathSequences {
		if strings.Contains(p, seq) {
			return field.ErrorList{field.Invalid(path, p, "must not contain '"+seq+"'")}
		}
	}
	for _, suf := range invalidPathSuffixes {
		if strings.HasSuffix(p, suf) {
			return field.ErrorList{field.Invalid(path, p, "cannot end with '"+suf+"'")}
		}
	}
	return nil
}

func validateIngressBackend(b *networkingv1.IngressBackend, path *field.Path) field.ErrorList {
	switch {
	case b.Resource != nil && b.Service != nil:
		return field.ErrorList{field.Invalid(path, "", "cannot set both resource and service backends")}
	case b.Resource != nil:
		var errs field.ErrorList
		if b.Resource.Kind == "" {
			errs = append(errs, field.Required(path.Child("resource", "kind"), ""))
		}
		if b.Resource.Name == "" {
			errs = append(errs, field.Required(path.Child("resource", "name"), ""))
		}
		return errs
	case b.Service != nil:
		return validateServiceBackend(b.Service, path)
	}
	return field.ErrorList{field.Invalid(path, "", "resource or service backend is required")}
}

func validateServiceBackend(s *networkingv1.IngressServiceBackend, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	np := path.Child("service", "name")
	if s.Name == "" {
		errs = append(errs, field.Required(np, ""))
	} else {
		errs = append(errs, validateDNS1123Label(s.Name, np)...)
	}
	hasName, hasNumber := s.Port.Name != "", s.Port.Number != 0
	pp := path.Child("service", "port")
	switch {
	case hasName && hasNumber:
		errs = append(errs, field.Invalid(path, "", "cannot set both port name & port number"))
	case hasName:
		errs = append(errs, invalidEach(pp.Child("name"), s.Port.Name, validation.IsValidPortName(s.Port.Name))...)
	case hasNumber:
		errs = append(errs, validatePortNum(s.Port.Number, pp.Child("number"))...)
	default:
		errs = append(errs, field.Required(path, "port name or number is required"))
	}
	return errs
}

func validateIngressStatus(ing, _ *networkingv1.Ingress) field.ErrorList {
	var errs field.ErrorList
	ip := field.NewPath("status", "loadBalancer", "ingress")
	for i, lb := range ing.Status.LoadBalancer.Ingress {
		if lb.IP != "" {
			errs = append(errs, validateIP(lb.IP, ip.Index(i).Child("ip"))...)
		}
		if lb.Hostname != "" {
			errs = append(errs, validateDNS1123Subdomain(lb.Hostname, ip.Index(i).Child("hostname"))...)
		}
	}
	return errs
}

func validateIngressClass(ic *networkingv1.IngressClass) field.ErrorList {
	var errs field.ErrorList
	cp := specPath.Child("controller")
	if ic.Spec.Controller == "" {
		errs = append(errs, field.Required(cp, ""))
	} else {
		errs = append(errs, validation.IsDomainPrefixedPath(cp, ic.Spec.Controller)...)
		if len(ic.Spec.Controller) > 250 {
			errs = append(errs, field.TooLong(cp, "", 250))
		}
	}
	if p := ic.Spec.Parameters; p != nil {
		errs = append(errs, validateIngressClassParameters(p, specPath.Child("parameters"))...)
	}
	return errs
}

func validateIngressClassParameters(p *networkingv1.IngressClassParametersReference, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if p.Kind == "" {
		errs = append(errs, field.Required(path.Child("kind"), ""))
	}
	if p.Name == "" {
		errs = append(errs, field.Required(path.Child("name"), ""))
	}
	if p.Scope == nil {
		return append(errs, field.Required(path.Child("scope"), ""))
	}
	errs = append(errs, requiredEnum(*p.Scope, []string{"Cluster", "Namespace"}, path.Child("scope"))...)
	switch {
	case *p.Scope == networkingv1.IngressClassParametersReferenceScopeNamespace && p.Namespace == nil:
		errs = append(errs, field.Required(path.Child("namespace"), "`parameters.scope` is set to 'Namespace'"))
	case *p.Scope == networkingv1.IngressClassParametersReferenceScopeCluster && p.Namespace != nil:
		errs = append(errs, field.Forbidden(path.Child("namespace"), "`parameters.scope` is set to 'Cluster'"))
	}
	return errs
}
