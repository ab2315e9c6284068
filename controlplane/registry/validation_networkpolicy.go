package registry

import (
	"net/netip"

	networkingv1 "k8s.io/api/networking/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func validateNetworkPolicy(np *networkingv1.NetworkPolicy) field.ErrorList {
	spec := &np.Spec
	opts := metav1validation.LabelSelectorValidationOptions{}
	errs := metav1validation.ValidateLabelSelector(&spec.PodSelector, opts, specPath.Child("podSelector"))
	for i, r := range spec.Ingress {
		rp := specPath.Child("ingress").Index(i)
		errs = append(errs, validatePolicyPorts(r.Ports, rp.Child("ports"))...)
		errs = append(errs, validatePolicyPeers(r.From, rp.Child("from"))...)
	}
	for i, r := range spec.Egress {
		rp := specPath.Child("egress").Index(i)
		errs = append(errs, validatePolicyPorts(r.Ports, rp.Child("ports"))...)
		errs = append(errs, validatePolicyPeers(r.To, rp.Child("to"))...)
	}
	tp := specPath.Child("policyTypes")
	if len(spec.PolicyTypes) > 2 {
		errs = append(errs, field.Invalid(tp, spec.PolicyTypes, "may not specify more than two policyTypes"))
	}
	for i, t := range spec.PolicyTypes {
		errs = append(errs, requiredEnum(t, []string{"Egress", "Ingress"}, tp.Index(i))...)
	}
	return errs
}

func validatePolicyPorts(ports []networkingv1.NetworkPolicyPort, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, p := range ports {
		pp := path.Index(i)
		if p.Protocol != nil {
			errs = append(errs, requiredEnum(*p.Protocol, supportedProtocols, pp.Child("protocol"))...)
		}
		if p.Port != nil {
			errs = append(errs, validatePortNumOrName(*p.Port, pp.Child("port"))...)
		}
		if p.EndPort == nil {
			continue
		}
		switch {
		case p.Port == nil:
			errs = append(errs, field.Required(pp.Child("port"), "must be specified when endPort is specified"))
		case p.Port.Type == intstr.String:
			errs = append(errs, field.Forbidden(pp.Child("endPort"), "may not be specified when `port` is non-numeric"))
		case *p.EndPort < p.Port.IntVal:
			errs = append(errs, field.Invalid(pp.Child("endPort"), *p.EndPort, "must be greater than or equal to `port`"))
		}
	}
	return errs
}

func validatePolicyPeers(peers []networkingv1.NetworkPolicyPeer, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	opts := metav1validation.LabelSelectorValidationOptions{}
	for i, peer := range peers {
		pp := path.Index(i)
		n := 0
		if peer.PodSelector != nil {
			n++
			errs = append(errs, metav1validation.ValidateLabelSelector(peer.PodSelector, opts, pp.Child("podSelector"))...)
		}
		if peer.NamespaceSelector != nil {
			n++
			errs = append(errs, metav1validation.ValidateLabelSelector(peer.NamespaceSelector, opts, pp.Child("namespaceSelector"))...)
		}
		if peer.IPBlock != nil {
			if n > 0 {
				errs = append(errs, field.Forbidden(pp, "may not specify both ipBlock and another peer"))
			}
			n++
			errs = append(errs, validateIPBlock(peer.IPBlock, pp.Child("ipBlock"))...)
		}
		if n == 0 {
			errs = append(errs, field.Required(pp, "must specify a peer"))
		}
	}
	return errs
}

func validateIPBlock(b *networkingv1.IPBlock, path *field.Path) field.ErrorList {
	cp := path.Child("cidr")
	if b.CIDR == "" {
		return field.ErrorList{field.Required(cp, "")}
	}
	errs := validateCIDR(b.CIDR, cp)
	if len(errs) > 0 {
		return errs
	}
	cidr := netip.MustParsePrefix(b.CIDR).Masked()
	for i, e := range b.Except {
		ep := path.Child("except").Index(i)
		if es := validateCIDR(e, ep); len(es) > 0 {
			errs = append(errs, es...)
			continue
		}
		ex := netip.MustParsePrefix(e)
		if ex.Addr().Is4() != cidr.Addr().Is4() || ex.Bits() <= cidr.Bits() || !cidr.Contains(ex.Addr()) {
			errs = append(errs, field.Invalid(ep, e, "must be a strict subset of `cidr`"))
		}
	}
	return errs
}
