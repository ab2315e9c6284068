package podenv

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

const (
	managedHostsHeader        = "# Kubernetes-managed hosts file.\n"
	managedHostsHeaderHostNet = "# Kubernetes-managed hosts file (host network).\n"
	// hostnameMaxLen is the longest hostname (64 bytes with the NUL).
	hostnameMaxLen = 63
	// fqdnMaxLen is the longest FQDN that fits the kernel's nodename.
	fqdnMaxLen = 64
)

// HostsInput is what Hosts needs.
type HostsInput struct {
	Pod *corev1.Pod
	// PodIPs are the pod's IPs; each gets a line with the pod's hostname.
	PodIPs        []string
	ClusterDomain string
	// NodeHosts is the node's /etc/hosts content, used for hostNetwork pods.
	NodeHosts []byte
}

// Hosts renders the pod's /etc/hosts as upstream's kubelet writes it: a
// header, the localhost lines, one line per pod IP with the hostname (and
// its FQDN when spec.subdomain is set), then spec.hostAliases. A
// hostNetwork pod gets the node's hosts file followed by its hostAliases.
// An invalid spec.hostname or spec.subdomain (which Hostname reports) is
// ignored here: the pod name and no domain are used instead.
func Hosts(in HostsInput) string {
	if in.Pod == nil {
		return managedHostsHeader + localhostLines
	}
	var b strings.Builder
	if in.Pod.Spec.HostNetwork {
		b.WriteString(managedHostsHeaderHostNet)
		b.Write(in.NodeHosts)
		b.WriteString(hostAliasLines(in.Pod.Spec.HostAliases))
		return b.String()
	}
	name, domain, err := hostnameAndDomain(in.Pod, in.ClusterDomain)
	if err != nil {
		name, domain = truncateHostname(in.Pod.Name), ""
	}
	b.WriteString(managedHostsHeader)
	b.WriteString(localhostLines)
	for _, ip := range in.PodIPs {
		if domain != "" {
			fmt.Fprintf(&b, "%s\t%s.%s\t%s\n", ip, name, domain, name)
		} else {
			fmt.Fprintf(&b, "%s\t%s\n", ip, name)
		}
	}
	b.WriteString(hostAliasLines(in.Pod.Spec.HostAliases))
	return b.String()
}

const localhostLines = "127.0.0.1\tlocalhost\n" +
	"::1\tlocalhost ip6-localhost ip6-loopback\n" +
	"fe00::0\tip6-localnet\n" +
	"fe00::0\tip6-mcastprefix\n" +
	"fe00::1\tip6-allnodes\n" +
	"fe00::2\tip6-allrouters\n"

func hostAliasLines(aliases []corev1.HostAlias) string {
	if len(aliases) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n# Entries added by HostAliases.\n")
	for _, a := range aliases {
		fmt.Fprintf(&b, "%s\t%s\n", a.IP, strings.Join(a.Hostnames, "\t"))
	}
	return b.String()
}

// Hostname gives the hostname to set in the pod's UTS namespace and the
// pod's FQDN (empty unless spec.subdomain is set). The hostname is
// spec.hostname or else the pod name, cut to 63 characters without a
// trailing '-' or '.'; with setHostnameAsFQDN (and a subdomain) it is the
// FQDN itself, which must then fit in 64 characters.
func Hostname(pod *corev1.Pod, clusterDomain string) (hostname, fqdn string, err error) {
	if pod == nil {
		return "", "", fmt.Errorf("pod hostname: pod is required")
	}
	name, domain, err := hostnameAndDomain(pod, clusterDomain)
	if err != nil {
		return "", "", err
	}
	if domain == "" {
		return name, "", nil
	}
	fqdn = name + "." + domain
	if pod.Spec.SetHostnameAsFQDN == nil || !*pod.Spec.SetHostnameAsFQDN {
		return name, fqdn, nil
	}
	if len(fqdn) > fqdnMaxLen {
		return "", "", fmt.Errorf("failed to construct FQDN from pod hostname and cluster domain, FQDN %s is too long (%d characters is the max, %d characters requested)", fqdn, fqdnMaxLen, len(fqdn))
	}
	return fqdn, fqdn, nil
}

// hostnameAndDomain gives the short hostname and the domain
// <subdomain>.<ns>.svc.<clusterDomain> (empty without a subdomain).
func hostnameAndDomain(pod *corev1.Pod, clusterDomain string) (string, string, error) {
	name := pod.Name
	orig := name
	if h := pod.Spec.Hostname; h != "" {
		if msgs := validation.IsDNS1123Label(h); len(msgs) != 0 {
			return "", "", fmt.Errorf("pod Hostname %q is not a valid DNS label: %s", h, strings.Join(msgs, ";"))
		}
		name, orig = h, h
	}
	name = truncateHostname(name)
	if name == "" {
		return "", "", fmt.Errorf("hostname for pod %q was invalid: %q", pod.Name, orig)
	}
	sub := pod.Spec.Subdomain
	if sub == "" {
		return name, "", nil
	}
	if msgs := validation.IsDNS1123Label(sub); len(msgs) != 0 {
		return "", "", fmt.Errorf("pod Subdomain %q is not a valid DNS label: %s", sub, strings.Join(msgs, ";"))
	}
	return name, fmt.Sprintf("%s.%s.svc.%s", sub, pod.Namespace, clusterDomain), nil
}

// truncateHostname cuts a hostname to 63 characters without a trailing '-' or '.'.
func truncateHostname(h string) string {
	if len(h) <= hostnameMaxLen {
		return h
	}
	return strings.TrimRight(h[:hostnameMaxLen], "-.")
}
