package registry

import (
	"slices"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func validateNamespace(ns *corev1.Namespace) field.ErrorList {
	return validateFinalizerNames(ns.Spec.Finalizers, specPath.Child("finalizers"))
}

func validateFinalizerNames(fs []corev1.FinalizerName, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, f := range fs {
		errs = append(errs, apivalidation.ValidateFinalizerName(string(f), path.Index(i))...)
	}
	return errs
}

// validateNamespaceStatus: the phase follows deletionTimestamp.
func validateNamespaceStatus(ns, _ *corev1.Namespace) field.ErrorList {
	pp := field.NewPath("status", "phase")
	if ns.DeletionTimestamp.IsZero() {
		if ns.Status.Phase != corev1.NamespaceActive {
			return field.ErrorList{field.Invalid(pp, ns.Status.Phase, "may only be 'Active' if `deletionTimestamp` is empty")}
		}
	} else if ns.Status.Phase != corev1.NamespaceTerminating {
		return field.ErrorList{field.Invalid(pp, ns.Status.Phase, "may only be 'Terminating' if `deletionTimestamp` is not empty")}
	}
	return nil
}

func validateNode(node *corev1.Node) field.ErrorList {
	spec := &node.Spec
	var errs field.ErrorList
	if spec.PodCIDR != "" {
		errs = append(errs, validateCIDR(spec.PodCIDR, specPath.Child("podCIDR"))...)
	}
	cp := specPath.Child("podCIDRs")
	for i, c := range spec.PodCIDRs {
		errs = append(errs, validateCIDR(c, cp.Index(i))...)
	}
	if len(spec.PodCIDRs) > 0 && spec.PodCIDR != spec.PodCIDRs[0] {
		errs = append(errs, field.Invalid(cp.Index(0), spec.PodCIDRs[0], "must match `podCIDR`"))
	}
	if len(spec.PodCIDRs) > 2 {
		errs = append(errs, field.Invalid(cp, spec.PodCIDRs, "may specify no more than one CIDR for each IP family"))
	}
	return append(errs, validateTaints(spec.Taints, specPath.Child("taints"))...)
}

func validateTaints(ts []corev1.Taint, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, t := range ts {
		tp := path.Index(i)
		errs = append(errs, metav1validation.ValidateLabelName(t.Key, tp.Child("key"))...)
		errs = append(errs, invalidEach(tp.Child("value"), t.Value, labelValueErrors(t.Value))...)
		errs = append(errs, requiredEnum(t.Effect, supportedTaintEffects, tp.Child("effect"))...)
		if k := t.Key + ":" + string(t.Effect); seen[k] {
			errs = append(errs, field.Duplicate(tp, t.Key+" "+string(t.Effect)))
		} else {
			seen[k] = true
		}
	}
	return errs
}

// validateNodeUpdate: podCIDR(s) and providerID may only go from unset to
// set.
func validateNodeUpdate(node, old *corev1.Node) field.ErrorList {
	var errs field.ErrorList
	if old.Spec.PodCIDR != "" && node.Spec.PodCIDR != old.Spec.PodCIDR {
		errs = append(errs, field.Forbidden(specPath.Child("podCIDR"), "node updates may not change podCIDR except from \"\" to valid"))
	}
	if len(old.Spec.PodCIDRs) > 0 && !slices.Equal(node.Spec.PodCIDRs, old.Spec.PodCIDRs) {
		errs = append(errs, field.Forbidden(specPath.Child("podCIDRs"), "node updates may not change podCIDR except from \"\" to valid"))
	}
	if old.Spec.ProviderID != "" && node.Spec.ProviderID != old.Spec.ProviderID {
		errs = append(errs, field.Forbidden(specPath.Child("providerID"), "node updates may not change providerID except from \"\" to valid"))
	}
	return errs
}

func validateNodeStatus(node, _ *corev1.Node) field.ErrorList {
	var errs field.ErrorList
	ap := field.NewPath("status", "addresses")
	for i, a := range node.Status.Addresses {
		if a.Type == corev1.NodeInternalIP || a.Type == corev1.NodeExternalIP {
			errs = append(errs, validateIP(a.Address, ap.Index(i).Child("address"))...)
		}
	}
	return errs
}

func validateLease(l *coordinationv1.Lease) field.ErrorList {
	var errs field.ErrorList
	if d := l.Spec.LeaseDurationSeconds; d != nil && *d <= 0 {
		errs = append(errs, field.Invalid(specPath.Child("leaseDurationSeconds"), *d, "must be greater than 0"))
	}
	errs = append(errs, nonNegativePtr(l.Spec.LeaseTransitions, specPath.Child("leaseTransitions"))...)
	return errs
}

func validateEndpoints(ep *corev1.Endpoints) field.ErrorList {
	var errs field.ErrorList
	sp := field.NewPath("subsets")
	for i, ss := range ep.Subsets {
		p := sp.Index(i)
		for j, a := range ss.Addresses {
			errs = append(errs, validateIP(a.IP, p.Child("addresses").Index(j).Child("ip"))...)
		}
		for j, a := range ss.NotReadyAddresses {
			errs = append(errs, validateIP(a.IP, p.Child("notReadyAddresses").Index(j).Child("ip"))...)
		}
		for j, port := range ss.Ports {
			pp := p.Child("ports").Index(j)
			if len(ss.Ports) > 1 && port.Name == "" {
				errs = append(errs, field.Required(pp.Child("name"), ""))
			} else if port.Name != "" {
				errs = append(errs, validateDNS1123Label(port.Name, pp.Child("name"))...)
			}
			errs = append(errs, validatePortNum(port.Port, pp.Child("port"))...)
			errs = append(errs, requiredEnum(port.Protocol, supportedProtocols, pp.Child("protocol"))...)
		}
	}
	return errs
}
