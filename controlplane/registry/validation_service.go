package registry

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	supportedServiceTypes     = []string{"ClusterIP", "ExternalName", "LoadBalancer", "NodePort"}
	supportedSessionAffinity  = []string{"ClientIP", "None"}
	supportedTrafficPolicies  = []string{"Cluster", "Local"}
	supportedIPFamilyPolicies = []string{"PreferDualStack", "RequireDualStack", "SingleStack"}
	supportedIPFamilies       = []string{"IPv4", "IPv6"}
)

var specPath = field.NewPath("spec")

// maxClientIPAffinitySeconds is upstream's cap on sessionAffinityConfig
// clientIP.timeoutSeconds (one day).
const maxClientIPAffinitySeconds = 86400

func validateService(svc *corev1.Service) field.ErrorList {
	spec := &svc.Spec
	var errs field.ErrorList
	if len(spec.Ports) == 0 && !isHeadless(svc) && spec.Type != corev1.ServiceTypeExternalName {
		errs = append(errs, field.Required(specPath.Child("ports"), ""))
	}
	errs = append(errs, requiredEnum(spec.Type, supportedServiceTypes, specPath.Child("type"))...)
	errs = append(errs, validateServiceTypeRules(svc)...)
	errs = append(errs, validateServicePorts(svc)...)
	errs = append(errs, validateLabels(spec.Selector, specPath.Child("selector"))...)
	errs = append(errs, validateSessionAffinity(spec)...)
	errs = append(errs, validateClusterIPs(svc)...)
	for i, ip := range spec.ExternalIPs {
		errs = append(errs, validateIP(ip, specPath.Child("externalIPs").Index(i))...)
	}
	errs = append(errs, validateTrafficPolicies(svc)...)
	return errs
}

func isHeadless(svc *corev1.Service) bool { return svc.Spec.ClusterIP == corev1.ClusterIPNone }

func validateServiceTypeRules(svc *corev1.Service) field.ErrorList {
	spec := &svc.Spec
	var errs field.ErrorList
	switch spec.Type {
	case corev1.ServiceTypeExternalName:
		errs = append(errs, validateExternalName(spec)...)
	case corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer:
		if isHeadless(svc) {
			errs = append(errs, field.Invalid(specPath.Child("clusterIPs").Index(0), corev1.ClusterIPNone,
				fmt.Sprintf("may not be set to 'None' for %s services", spec.Type)))
		}
	case corev1.ServiceTypeClusterIP:
		for i, p := range spec.Ports {
			if p.NodePort != 0 {
				errs = append(errs, field.Forbidden(specPath.Child("ports").Index(i).Child("nodePort"), "may not be used when `type` is 'ClusterIP'"))
			}
		}
	}
	lb := spec.Type == corev1.ServiceTypeLoadBalancer
	if lb && spec.AllocateLoadBalancerNodePorts == nil {
		errs = append(errs, field.Required(specPath.Child("allocateLoadBalancerNodePorts"), ""))
	}
	if !lb && spec.AllocateLoadBalancerNodePorts != nil {
		errs = append(errs, field.Forbidden(specPath.Child("allocateLoadBalancerNodePorts"), "may only be used when `type` is 'LoadBalancer'"))
	}
	if !lb && spec.LoadBalancerClass != nil {
		errs = append(errs, field.Forbidden(specPath.Child("loadBalancerClass"), "may only be used when `type` is 'LoadBalancer'"))
	}
	if !lb && len(spec.LoadBalancerSourceRanges) > 0 {
		errs = append(errs, field.Forbidden(specPath.Child("loadBalancerSourceRanges"), "may only be used when `type` is 'LoadBalancer'"))
	}
	for i, cidr := range spec.LoadBalancerSourceRanges {
		errs = append(errs, validateCIDR(strings.TrimSpace(cidr), specPath.Child("loadBalancerSourceRanges").Index(i))...)
	}
	return errs
}

func validateExternalName(spec *corev1.ServiceSpec) field.ErrorList {
	var errs field.ErrorList
	if spec.ClusterIP != "" || len(spec.ClusterIPs) > 0 {
		errs = append(errs, field.Forbidden(specPath.Child("clusterIPs"), "may not be set for ExternalName services"))
	}
	if spec.IPFamilyPolicy != nil {
		errs = append(errs, field.Forbidden(specPath.Child("ipFamilyPolicy"), "may not be set for ExternalName services"))
	}
	if len(spec.IPFamilies) > 0 {
		errs = append(errs, field.Forbidden(specPath.Child("ipFamilies"), "may not be set for ExternalName services"))
	}
	name := strings.TrimSuffix(spec.ExternalName, ".")
	if name == "" {
		return append(errs, field.Required(specPath.Child("externalName"), ""))
	}
	return append(errs, validateDNS1123Subdomain(name, specPath.Child("externalName"))...)
}

func validateServicePorts(svc *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	names := sets.New[string]()
	ports := sets.New[string]()
	nodePorts := sets.New[string]()
	pp := specPath.Child("ports")
	for i := range svc.Spec.Ports {
		p := &svc.Spec.Ports[i]
		errs = append(errs, validateServicePort(p, len(svc.Spec.Ports) > 1, names, pp.Index(i))...)
		key := fmt.Sprintf("%s/%d", p.Protocol, p.Port)
		if ports.Has(key) {
			errs = append(errs, field.Duplicate(pp.Index(i), key))
		}
		ports.Insert(key)
		if p.NodePort != 0 {
			nkey := fmt.Sprintf("%s/%d", p.Protocol, p.NodePort)
			if nodePorts.Has(nkey) {
				errs = append(errs, field.Duplicate(pp.Index(i).Child("nodePort"), p.NodePort))
			}
			nodePorts.Insert(nkey)
		}
	}
	return errs
}

func validateServicePort(p *corev1.ServicePort, requireName bool, names sets.Set[string], path *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch {
	case p.Name == "" && requireName:
		errs = append(errs, field.Required(path.Child("name"), ""))
	case p.Name != "":
		errs = append(errs, validateDNS1123Label(p.Name, path.Child("name"))...)
		if names.Has(p.Name) {
			errs = append(errs, field.Duplicate(path.Child("name"), p.Name))
		}
		names.Insert(p.Name)
	}
	errs = append(errs, validatePortNum(p.Port, path.Child("port"))...)
	errs = append(errs, requiredEnum(p.Protocol, supportedProtocols, path.Child("protocol"))...)
	errs = append(errs, validatePortNumOrName(p.TargetPort, path.Child("targetPort"))...)
	if p.NodePort != 0 {
		errs = append(errs, validatePortNum(p.NodePort, path.Child("nodePort"))...)
	}
	return errs
}

func validateSessionAffinity(spec *corev1.ServiceSpec) field.ErrorList {
	errs := requiredEnum(spec.SessionAffinity, supportedSessionAffinity, specPath.Child("sessionAffinity"))
	cp := specPath.Child("sessionAffinityConfig")
	switch spec.SessionAffinity {
	case corev1.ServiceAffinityClientIP:
		c := spec.SessionAffinityConfig
		if c == nil || c.ClientIP == nil || c.ClientIP.TimeoutSeconds == nil {
			return append(errs, field.Required(cp, "when session affinity type is ClientIP"))
		}
		if t := *c.ClientIP.TimeoutSeconds; t <= 0 || t > maxClientIPAffinitySeconds {
			errs = append(errs, field.Invalid(cp.Child("clientIP", "timeoutSeconds"), t,
				fmt.Sprintf("must be greater than 0 and less than %d", maxClientIPAffinitySeconds)))
		}
	case corev1.ServiceAffinityNone:
		if spec.SessionAffinityConfig != nil {
			errs = append(errs, field.Forbidden(cp, "must not be set when session affinity is None"))
		}
	}
	return errs
}

func validateTrafficPolicies(svc *corev1.Service) field.ErrorList {
	spec := &svc.Spec
	var errs field.ErrorList
	etp := specPath.Child("externalTrafficPolicy")
	switch {
	case externallyAccessible(svc) && spec.ExternalTrafficPolicy == "":
		errs = append(errs, field.Required(etp, ""))
	case !externallyAccessible(svc) && spec.ExternalTrafficPolicy != "":
		errs = append(errs, field.Invalid(etp, spec.ExternalTrafficPolicy, "may only be set for externally-accessible services"))
	default:
		errs = append(errs, optionalEnum(spec.ExternalTrafficPolicy, supportedTrafficPolicies, etp)...)
	}
	if spec.HealthCheckNodePort != 0 && !needsHealthCheckPort(svc) {
		errs = append(errs, field.Invalid(specPath.Child("healthCheckNodePort"), spec.HealthCheckNodePort,
			"may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"))
	}
	if spec.HealthCheckNodePort < 0 {
		errs = append(errs, field.Invalid(specPath.Child("healthCheckNodePort"), spec.HealthCheckNodePort, mustBeNonNegative))
	}
	itp := specPath.Child("internalTrafficPolicy")
	if spec.Type != corev1.ServiceTypeExternalName {
		if spec.InternalTrafficPolicy == nil {
			errs = append(errs, field.Required(itp, ""))
		} else {
			errs = append(errs, requiredEnum(*spec.InternalTrafficPolicy, supportedTrafficPolicies, itp)...)
		}
	}
	return errs
}

// validateServiceUpdate: the cluster IP may not change once set, nor the
// health check node port while both old and new need one.
func validateServiceUpdate(svc, old *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	if needsClusterIP(svc) && needsClusterIP(old) && old.Spec.ClusterIP != "" {
		errs = append(errs, immutable(svc.Spec.ClusterIP, old.Spec.ClusterIP, specPath.Child("clusterIP"))...)
		if len(svc.Spec.ClusterIPs) > 0 && len(old.Spec.ClusterIPs) > 0 && svc.Spec.ClusterIPs[0] != old.Spec.ClusterIPs[0] {
			errs = append(errs, field.Invalid(specPath.Child("clusterIPs").Index(0), svc.Spec.ClusterIPs[0], "may not change once set"))
		}
	}
	if needsHealthCheckPort(svc) && needsHealthCheckPort(old) && old.Spec.HealthCheckNodePort != 0 {
		errs = append(errs, immutable(svc.Spec.HealthCheckNodePort, old.Spec.HealthCheckNodePort, specPath.Child("healthCheckNodePort"))...)
	}
	if svc.Spec.Type == corev1.ServiceTypeLoadBalancer && old.Spec.Type == corev1.ServiceTypeLoadBalancer {
		errs = append(errs, immutable(svc.Spec.LoadBalancerClass, old.Spec.LoadBalancerClass, specPath.Child("loadBalancerClass"))...)
	}
	return errs
}

func validateServiceStatus(svc, _ *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	ip := field.NewPath("status", "loadBalancer", "ingress")
	for i, ing := range svc.Status.LoadBalancer.Ingress {
		if ing.IP != "" {
			errs = append(errs, validateIP(ing.IP, ip.Index(i).Child("ip"))...)
		}
		if ing.Hostname != "" {
			errs = append(errs, validateDNS1123Subdomain(ing.Hostname, ip.Index(i).Child("hostname"))...)
		}
	}
	return errs
}
