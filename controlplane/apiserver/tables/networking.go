package tables

import (
	"strconv"
	"strings"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func endpointSlicePrinter() printer {
	doc := discoveryv1.EndpointSlice{}.SwaggerDoc()
	return typed(discoveryv1.SchemeGroupVersion.WithKind("EndpointSlice"), []metav1.TableColumnDefinition{
		nameColumn(),
		column("AddressType", "string", doc["addressType"]),
		column("Ports", "string", doc["ports"]),
		column("Endpoints", "string", doc["endpoints"]),
		ageColumn(),
	}, func(s *discoveryv1.EndpointSlice, now time.Time) []interface{} {
		return []interface{}{s.Name, string(s.AddressType), slicePorts(s.Ports), sliceEndpoints(s.Endpoints), age(s.CreationTimestamp, now)}
	})
}

// slicePorts lists port numbers ("*" for all ports, the name when only a
// name is set), "<unset>" when there are none.
func slicePorts(ports []discoveryv1.EndpointPort) string {
	var shown []string
	for _, p := range ports {
		num := "*"
		if p.Port != nil {
			num = strconv.Itoa(int(*p.Port))
		} else if p.Name != nil {
			num = *p.Name
		}
		shown = appendCapped(shown, num)
	}
	return orUnset(moreList(shown, len(ports)))
}

func sliceEndpoints(endpoints []discoveryv1.Endpoint) string {
	var shown []string
	total := 0
	for _, ep := range endpoints {
		for _, a := range ep.Addresses {
			shown = appendCapped(shown, a)
			total++
		}
	}
	return orUnset(moreList(shown, total))
}

func orUnset(s string) string {
	if s == "" {
		return "<unset>"
	}
	return s
}

func ingressPrinter() printer {
	return typed(networkingv1.SchemeGroupVersion.WithKind("Ingress"), []metav1.TableColumnDefinition{
		nameColumn(),
		column("Class", "string", "The name of the IngressClass resource that should be used for additional configuration"),
		column("Hosts", "string", "Hosts that incoming requests are matched against before the ingress rule"),
		column("Address", "string", "Address is a list containing ingress points for the load-balancer"),
		column("Ports", "string", "Ports of TLS configurations that open"),
		ageColumn(),
	}, ingressCells)
}

func ingressCells(ing *networkingv1.Ingress, now time.Time) []interface{} {
	class := "<none>"
	if ing.Spec.IngressClassName != nil {
		class = *ing.Spec.IngressClassName
	}
	var addrs []string
	for _, in := range ing.Status.LoadBalancer.Ingress {
		addrs = append(addrs, firstNonEmpty(in.IP, in.Hostname))
	}
	ports := "80"
	if len(ing.Spec.TLS) > 0 {
		ports = "80, 443"
	}
	return []interface{}{ing.Name, class, ingressHosts(ing.Spec.Rules), lbAddresses(addrs), ports, age(ing.CreationTimestamp, now)}
}

// ingressHosts lists the first three hosts of the rules ("*" if no rule
// has one) and, past them, how many rules there are beyond three.
func ingressHosts(rules []networkingv1.IngressRule) string {
	var hosts []string
	more := false
	for _, r := range rules {
		if len(hosts) == listMax {
			more = true
			break
		}
		if r.Host != "" {
			hosts = append(hosts, r.Host)
		}
	}
	if len(hosts) == 0 {
		return "*"
	}
	s := strings.Join(hosts, ",")
	if more {
		return s + " + " + strconv.Itoa(len(rules)-listMax) + " more..."
	}
	return s
}

func ingressClassPrinter() printer {
	return typed(networkingv1.SchemeGroupVersion.WithKind("IngressClass"), []metav1.TableColumnDefinition{
		nameColumn(),
		column("Controller", "string", "Controller that is responsible for handling this class"),
		column("Parameters", "string", "A reference to a resource with additional parameters"),
		ageColumn(),
	}, func(ic *networkingv1.IngressClass, now time.Time) []interface{} {
		return []interface{}{ic.Name, ic.Spec.Controller, ingressClassParameters(ic.Spec.Parameters), age(ic.CreationTimestamp, now)}
	})
}

// ingressClassParameters is "Kind.group/name", "<none>" when unset.
func ingressClassParameters(p *networkingv1.IngressClassParametersReference) string {
	if p == nil {
		return "<none>"
	}
	s := p.Kind
	if p.APIGroup != nil {
		s += "." + *p.APIGroup
	}
	return s + "/" + p.Name
}

func networkPolicyPrinter() printer {
	return typed(networkingv1.SchemeGroupVersion.WithKind("NetworkPolicy"), []metav1.TableColumnDefinition{
		nameColumn(),
		column("Pod-Selector", "string", networkingv1.NetworkPolicySpec{}.SwaggerDoc()["podSelector"]),
		ageColumn(),
	}, func(np *networkingv1.NetworkPolicy, now time.Time) []interface{} {
		return []interface{}{np.Name, metav1.FormatLabelSelector(&np.Spec.PodSelector), age(np.CreationTimestamp, now)}
	})
}
