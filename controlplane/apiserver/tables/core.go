package tables

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

const (
	// nodeRolePrefix labels a node with a role: node-role.kubernetes.io/<role>.
	nodeRolePrefix = "node-role.kubernetes.io/"
	// nodeRoleLabel is the older kubernetes.io/role=<role> label.
	nodeRoleLabel = "kubernetes.io/role"
)

func servicePrinter() printer {
	doc := corev1.ServiceSpec{}.SwaggerDoc()
	return typed(corev1.SchemeGroupVersion.WithKind("Service"), []metav1.TableColumnDefinition{
		nameColumn(),
		column("Type", "string", doc["type"]),
		column("Cluster-IP", "string", doc["clusterIP"]),
		column("External-IP", "string", doc["externalIPs"]),
		column("Port(s)", "string", doc["ports"]),
		ageColumn(),
		wide(column("Selector", "string", doc["selector"])),
	}, serviceCells)
}

func serviceCells(svc *corev1.Service, now time.Time) []interface{} {
	clusterIP := svc.Spec.ClusterIP
	if len(svc.Spec.ClusterIPs) > 0 {
		clusterIP = svc.Spec.ClusterIPs[0]
	}
	return []interface{}{
		svc.Name, string(serviceType(svc)), orNone(clusterIP), serviceExternalIP(svc),
		orNone(servicePorts(svc.Spec.Ports)), age(svc.CreationTimestamp, now),
		labels.FormatLabels(svc.Spec.Selector),
	}
}

// serviceType defaults an unset type to ClusterIP, as the apiserver does.
func serviceType(svc *corev1.Service) corev1.ServiceType {
	if svc.Spec.Type == "" {
		return corev1.ServiceTypeClusterIP
	}
	return svc.Spec.Type
}

func serviceExternalIP(svc *corev1.Service) string {
	external := svc.Spec.ExternalIPs
	switch serviceType(svc) {
	case corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort:
		return orNone(strings.Join(external, ","))
	case corev1.ServiceTypeLoadBalancer:
		var ingress []string
		for _, in := range svc.Status.LoadBalancer.Ingress {
			ingress = append(ingress, firstNonEmpty(in.IP, in.Hostname))
		}
		all := lbAddresses(ingress)
		if len(external) > 0 {
			if all != "" {
				return all + "," + strings.Join(external, ",")
			}
			return strings.Join(external, ",")
		}
		if all == "" {
			return "<pending>"
		}
		return all
	case corev1.ServiceTypeExternalName:
		return svc.Spec.ExternalName
	}
	return "<unknown>"
}

func servicePorts(ports []corev1.ServicePort) string {
	pieces := make([]string, len(ports))
	for i, p := range ports {
		if p.NodePort > 0 {
			pieces[i] = fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, p.Protocol)
		} else {
			pieces[i] = fmt.Sprintf("%d/%s", p.Port, p.Protocol)
		}
	}
	return strings.Join(pieces, ",")
}

func nodePrinter() printer {
	info := corev1.NodeSystemInfo{}.SwaggerDoc()
	addresses := corev1.NodeStatus{}.SwaggerDoc()["addresses"]
	return typed(corev1.SchemeGroupVersion.WithKind("Node"), []metav1.TableColumnDefinition{
		nameColumn(),
		column("Status", "string", "The status of the node"),
		column("Roles", "string", "The roles of the node"),
		ageColumn(),
		column("Version", "string", info["kubeletVersion"]),
		wide(column("Internal-IP", "string", addresses)),
		wide(column("External-IP", "string", addresses)),
		wide(column("OS-Image", "string", info["osImage"])),
		wide(column("Kernel-Version", "string", info["kernelVersion"])),
		wide(column("Container-Runtime", "string", info["containerRuntimeVersion"])),
	}, nodeCells)
}

func nodeCells(node *corev1.Node, now time.Time) []interface{} {
	info := node.Status.NodeInfo
	return []interface{}{
		node.Name, nodeStatus(node), orNone(strings.Join(nodeRoles(node), ",")),
		age(node.CreationTimestamp, now), info.KubeletVersion,
		nodeAddress(node, corev1.NodeInternalIP), nodeAddress(node, corev1.NodeExternalIP),
		orUnknown(info.OSImage), orUnknown(info.KernelVersion), orUnknown(info.ContainerRuntimeVersion),
	}
}

// nodeStatus is Ready, NotReady or Unknown, plus SchedulingDisabled for a
// cordoned node. The last Ready condition in the list wins.
func nodeStatus(node *corev1.Node) string {
	status := "Unknown"
	for _, c := range node.Status.Conditions {
		if c.Type != corev1.NodeReady {
			continue
		}
		status = "NotReady"
		if c.Status == corev1.ConditionTrue {
			status = "Ready"
		}
	}
	if node.Spec.Unschedulable {
		status += ",SchedulingDisabled"
	}
	return status
}

// nodeRoles lists, sorted and unique, the roles from
// node-role.kubernetes.io/<role> and kubernetes.io/role=<role> labels.
func nodeRoles(node *corev1.Node) []string {
	set := map[string]bool{}
	for k, v := range node.Labels {
		switch {
		case strings.HasPrefix(k, nodeRolePrefix):
			if role := strings.TrimPrefix(k, nodeRolePrefix); role != "" {
				set[role] = true
			}
		case k == nodeRoleLabel && v != "":
			set[v] = true
		}
	}
	roles := make([]string, 0, len(set))
	for r := range set {
		roles = append(roles, r)
	}
	sort.Strings(roles)
	return roles
}

func nodeAddress(node *corev1.Node, t corev1.NodeAddressType) string {
	for _, a := range node.Status.Addresses {
		if a.Type == t {
			return a.Address
		}
	}
	return "<none>"
}

func namespacePrinter() printer {
	return typed(corev1.SchemeGroupVersion.WithKind("Namespace"), []metav1.TableColumnDefinition{
		nameColumn(),
		column("Status", "string", "The status of the namespace"),
		ageColumn(),
	}, func(ns *corev1.Namespace, now time.Time) []interface{} {
		return []interface{}{ns.Name, string(ns.Status.Phase), age(ns.CreationTimestamp, now)}
	})
}

func endpointsPrinter() printer {
	return typed(corev1.SchemeGroupVersion.WithKind("Endpoints"), []metav1.TableColumnDefinition{
		nameColumn(),
		column("Endpoints", "string", corev1.Endpoints{}.SwaggerDoc()["subsets"]),
		ageColumn(),
	}, func(ep *corev1.Endpoints, now time.Time) []interface{} {
		return []interface{}{ep.Name, endpointAddresses(ep.Subsets), age(ep.CreationTimestamp, now)}
	})
}

// endpointAddresses lists ip:port for every address and port (bare IPs for
// a subset without ports), the first three and a count of the rest.
func endpointAddresses(subsets []corev1.EndpointSubset) string {
	if len(subsets) == 0 {
		return "<none>"
	}
	var shown []string
	total := 0
	for _, ss := range subsets {
		if len(ss.Ports) == 0 {
			for _, a := range ss.Addresses {
				shown = appendCapped(shown, a.IP)
			}
			total += len(ss.Addresses)
			continue
		}
		for _, p := range ss.Ports {
			for _, a := range ss.Addresses {
				shown = appendCapped(shown, net.JoinHostPort(a.IP, strconv.Itoa(int(p.Port))))
			}
			total += len(ss.Addresses)
		}
	}
	return moreList(shown, total)
}

func configMapPrinter() printer {
	return typed(corev1.SchemeGroupVersion.WithKind("ConfigMap"), []metav1.TableColumnDefinition{
		nameColumn(),
		column("Data", "string", corev1.ConfigMap{}.SwaggerDoc()["data"]),
		ageColumn(),
	}, func(cm *corev1.ConfigMap, now time.Time) []interface{} {
		return []interface{}{cm.Name, int64(len(cm.Data) + len(cm.BinaryData)), age(cm.CreationTimestamp, now)}
	})
}

func secretPrinter() printer {
	doc := corev1.Secret{}.SwaggerDoc()
	return typed(corev1.SchemeGroupVersion.WithKind("Secret"), []metav1.TableColumnDefinition{
		nameColumn(),
		column("Type", "string", doc["type"]),
		column("Data", "string", doc["data"]),
		ageColumn(),
	}, func(s *corev1.Secret, now time.Time) []interface{} {
		return []interface{}{s.Name, string(secretType(s)), int64(len(s.Data)), age(s.CreationTimestamp, now)}
	})
}

// secretType defaults an unset type to Opaque, as the apiserver does.
func secretType(s *corev1.Secret) corev1.SecretType {
	if s.Type == "" {
		return corev1.SecretTypeOpaque
	}
	return s.Type
}

// serviceAccountPrinter prints NAME and AGE: upstream dropped the SECRETS
// column in Kubernetes 1.29, when token secrets stopped being generated.
func serviceAccountPrinter() printer {
	return typed(corev1.SchemeGroupVersion.WithKind("ServiceAccount"), []metav1.TableColumnDefinition{
		nameColumn(),
		ageColumn(),
	}, func(sa *corev1.ServiceAccount, now time.Time) []interface{} {
		return []interface{}{sa.Name, age(sa.CreationTimestamp, now)}
	})
}

func leasePrinter() printer {
	return typed(coordinationv1.SchemeGroupVersion.WithKind("Lease"), []metav1.TableColumnDefinition{
		nameColumn(),
		column("Holder", "string", coordinationv1.LeaseSpec{}.SwaggerDoc()["holderIdentity"]),
		ageColumn(),
	}, func(l *coordinationv1.Lease, now time.Time) []interface{} {
		holder := ""
		if l.Spec.HolderIdentity != nil {
			holder = *l.Spec.HolderIdentity
		}
		return []interface{}{l.Name, holder, age(l.CreationTimestamp, now)}
	})
}

func orUnknown(s string) string {
	if s == "" {
		return "<unknown>"
	}
	return s
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
