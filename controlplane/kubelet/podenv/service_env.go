package podenv

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// masterService is the service of the default namespace whose variables
// every pod gets, whatever its enableServiceLinks.
const masterService = "kubernetes"

// serviceEnv returns the service link variables of a pod in namespace ns, in
// a stable order: services sorted by name, each with its variables in
// upstream's order.
func serviceEnv(services []*corev1.Service, ns string, links bool) []envVar {
	chosen := map[string]*corev1.Service{}
	for _, svc := range services {
		if svc == nil || !serviceIPSet(svc) {
			continue
		}
		switch {
		case svc.Namespace == ns && links:
			chosen[svc.Name] = svc
		case svc.Namespace == corev1.NamespaceDefault && svc.Name == masterService:
			if _, ok := chosen[svc.Name]; !ok {
				chosen[svc.Name] = svc
			}
		}
	}
	names := make([]string, 0, len(chosen))
	for n := range chosen {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []envVar
	for _, n := range names {
		out = append(out, serviceVars(chosen[n])...)
	}
	return out
}

func serviceIPSet(svc *corev1.Service) bool {
	ip := svc.Spec.ClusterIP
	return ip != "" && ip != corev1.ClusterIPNone
}

// envName turns a service or port name into an environment variable part.
func envName(s string) string {
	return strings.ToUpper(strings.ReplaceAll(s, "-", "_"))
}

// serviceVars gives <NAME>_SERVICE_HOST, <NAME>_SERVICE_PORT,
// <NAME>_SERVICE_PORT_<PORTNAME> and the Docker link variables.
func serviceVars(svc *corev1.Service) []envVar {
	if len(svc.Spec.Ports) == 0 {
		return nil
	}
	prefix := envName(svc.Name)
	ip := svc.Spec.ClusterIP
	out := []envVar{
		{prefix + "_SERVICE_HOST", ip},
		{prefix + "_SERVICE_PORT", strconv.Itoa(int(svc.Spec.Ports[0].Port))},
	}
	for _, p := range svc.Spec.Ports {
		if p.Name != "" {
			out = append(out, envVar{prefix + "_SERVICE_PORT_" + envName(p.Name), strconv.Itoa(int(p.Port))})
		}
	}
	return append(out, linkVars(prefix, ip, svc.Spec.Ports)...)
}

// linkVars gives the Docker link variables (<NAME>_PORT, <NAME>_PORT_<n>_<PROTO>...).
func linkVars(prefix, ip string, ports []corev1.ServicePort) []envVar {
	var out []envVar
	for i, p := range ports {
		proto := string(p.Protocol)
		if proto == "" {
			proto = string(corev1.ProtocolTCP)
		}
		lower := strings.ToLower(proto)
		port := strconv.Itoa(int(p.Port))
		url := lower + "://" + net.JoinHostPort(ip, port)
		if i == 0 {
			out = append(out, envVar{prefix + "_PORT", url})
		}
		pp := fmt.Sprintf("%s_PORT_%d_%s", prefix, p.Port, strings.ToUpper(proto))
		out = append(out,
			envVar{pp, url},
			envVar{pp + "_PROTO", lower},
			envVar{pp + "_PORT", port},
			envVar{pp + "_ADDR", ip},
		)
	}
	return out
}
