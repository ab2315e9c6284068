package registry

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateClusterIPs checks clusterIP/clusterIPs, ipFamilies and
// ipFamilyPolicy of a Service that needs a cluster IP. Whether an IP is in
// the service CIDR and free is the allocator's business.
func validateClusterIPs(svc *corev1.Service) field.ErrorList {
	spec := &svc.Spec
	if spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	ipsPath := specPath.Child("clusterIPs")
	var errs field.ErrorList
	if len(spec.ClusterIPs) > 0 && spec.ClusterIP != spec.ClusterIPs[0] {
		errs = append(errs, field.Invalid(ipsPath, spec.ClusterIPs, "first value must match `clusterIP`"))
	}
	if len(spec.ClusterIPs) > 2 {
		errs = append(errs, field.Invalid(ipsPath, spec.ClusterIPs, "may only hold up to 2 values"))
	}
	for i, ip := range spec.ClusterIPs {
		if ip == corev1.ClusterIPNone {
			if i != 0 || len(spec.ClusterIPs) > 1 {
				errs = append(errs, field.Invalid(ipsPath, spec.ClusterIPs, "'None' must be the first and only value"))
			}
			continue
		}
		errs = append(errs, validateIP(ip, ipsPath.Index(i))...)
	}
	if len(spec.ClusterIPs) == 2 && isIPv4(spec.ClusterIPs[0]) == isIPv4(spec.ClusterIPs[1]) {
		errs = append(errs, field.Invalid(ipsPath, spec.ClusterIPs, "may specify no more than one IP for each IP family"))
	}
	errs = append(errs, validateIPFamilies(svc)...)
	return errs
}

func validateIPFamilies(svc *corev1.Service) field.ErrorList {
	spec := &svc.Spec
	var errs field.ErrorList
	policyPath, famPath := specPath.Child("ipFamilyPolicy"), specPath.Child("ipFamilies")
	if spec.IPFamilyPolicy == nil {
		errs = append(errs, field.Required(policyPath, ""))
	} else {
		errs = append(errs, requiredEnum(*spec.IPFamilyPolicy, supportedIPFamilyPolicies, policyPath)...)
	}
	if len(spec.IPFamilies) == 0 {
		errs = append(errs, field.Required(famPath, ""))
	}
	if len(spec.IPFamilies) > 2 {
		errs = append(errs, field.Invalid(famPath, spec.IPFamilies, "may only hold up to 2 values"))
	}
	seen := map[corev1.IPFamily]bool{}
	for i, f := range spec.IPFamilies {
		errs = append(errs, requiredEnum(f, supportedIPFamilies, famPath.Index(i))...)
		if seen[f] {
			errs = append(errs, field.Duplicate(famPath.Index(i), f))
		}
		seen[f] = true
	}
	if spec.IPFamilyPolicy != nil && *spec.IPFamilyPolicy == corev1.IPFamilyPolicySingleStack {
		if len(spec.IPFamilies) > 1 {
			errs = append(errs, field.Invalid(famPath, spec.IPFamilies, "when `ipFamilyPolicy` is 'SingleStack', must hold only one value"))
		}
		if len(spec.ClusterIPs) > 1 {
			errs = append(errs, field.Invalid(specPath.Child("clusterIPs"), spec.ClusterIPs, "when `ipFamilyPolicy` is 'SingleStack', must hold only one value"))
		}
	}
	for i, ip := range spec.ClusterIPs {
		if i >= len(spec.IPFamilies) || ip == corev1.ClusterIPNone || !(isIPv4(ip) || isIPv6(ip)) {
			continue
		}
		if got := ipFamilyOf(ip); got != spec.IPFamilies[i] {
			errs = append(errs, field.Invalid(specPath.Child("clusterIPs").Index(i), ip,
				fmt.Sprintf("expected an %s value as indicated by `ipFamilies[%d]`", spec.IPFamilies[i], i)))
		}
	}
	return errs
}
