package podenv

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Limits on the resolver configuration, as upstream's validation.
const (
	maxNameservers     = 3
	maxSearchPaths     = 32
	maxSearchListChars = 2048
	maxSearchLen       = 253
	maxResolvConfBytes = 10 << 20
)

// DNSInput is what ResolvConf needs.
type DNSInput struct {
	Pod *corev1.Pod
	// ClusterDNS are the cluster DNS server IPs (kubelet --cluster-dns).
	ClusterDNS []string
	// ClusterDomain is the cluster's DNS domain, e.g. "cluster.local".
	ClusterDomain string
	// HostResolvConf is the content of the node's resolv.conf. Nil means the
	// kubelet has none (--resolv-conf=""): the host policy then resolves
	// through 127.0.0.1 with the search list ".".
	HostResolvConf []byte
}

// dnsConfig is a resolver configuration before rendering.
type dnsConfig struct {
	servers, searches, options []string
}

// ResolvConf renders the pod's /etc/resolv.conf for its dnsPolicy and
// dnsConfig, as upstream's kubelet composes it:
//   - ClusterFirst (also the empty policy) and ClusterFirstWithHostNet: the
//     cluster DNS servers, the search list <ns>.svc.<domain> svc.<domain>
//     <domain> followed by the host's, and options ndots:5. Without cluster
//     DNS servers it falls back to Default; ClusterFirst on a hostNetwork pod
//     is Default too.
//   - Default: the host's nameservers, search list and options.
//   - None: only the pod's dnsConfig.
//
// The pod's dnsConfig is then merged (nameservers and searches appended
// without duplicates, options replaced by name) and the result cut to 3
// nameservers and 32 search domains of at most 2048 characters in all.
func ResolvConf(in DNSInput) (string, error) {
	if in.Pod == nil {
		return "", fmt.Errorf("build resolv.conf: pod is required")
	}
	host, err := parseResolvConf(in.HostResolvConf)
	if err != nil {
		return "", fmt.Errorf("parse the host resolv.conf: %w", err)
	}
	cfg, err := baseDNSConfig(in, host)
	if err != nil {
		return "", err
	}
	if pc := in.Pod.Spec.DNSConfig; pc != nil {
		cfg.servers = dedup(append(cfg.servers, pc.Nameservers...))
		cfg.searches = dedup(append(cfg.searches, pc.Searches...))
		cfg.options = mergeOptions(cfg.options, pc.Options)
	}
	if len(cfg.servers) > maxNameservers {
		cfg.servers = cfg.servers[:maxNameservers]
	}
	cfg.searches = fitSearches(cfg.searches)
	return cfg.render(), nil
}

func baseDNSConfig(in DNSInput, host dnsConfig) (dnsConfig, error) {
	policy := in.Pod.Spec.DNSPolicy
	cluster := false
	switch policy {
	case corev1.DNSNone:
		return dnsConfig{}, nil
	case corev1.DNSClusterFirstWithHostNet:
		cluster = true
	case corev1.DNSClusterFirst, "":
		cluster = !in.Pod.Spec.HostNetwork
	case corev1.DNSDefault:
	default:
		return dnsConfig{}, fmt.Errorf("invalid DNSPolicy=%s", policy)
	}
	if cluster && len(in.ClusterDNS) > 0 {
		return dnsConfig{
			servers:  append([]string(nil), in.ClusterDNS...),
			searches: clusterSearches(in.Pod.Namespace, in.ClusterDomain, host.searches),
			options:  []string{"ndots:5"},
		}, nil
	}
	if in.HostResolvConf == nil {
		return dnsConfig{servers: []string{"127.0.0.1"}, searches: []string{"."}}, nil
	}
	return host, nil
}

func clusterSearches(ns, domain string, host []string) []string {
	if domain == "" {
		return host
	}
	s := []string{ns + ".svc." + domain, "svc." + domain, domain}
	return dedup(append(s, host...))
}

// parseResolvConf reads nameserver lines (they accumulate), search lines
// (the last wins; trailing dots dropped, "." skipped) and options lines
// (accumulate, a later option of the same name replaces an earlier one).
func parseResolvConf(data []byte) (dnsConfig, error) {
	var cfg dnsConfig
	if len(data) > maxResolvConfBytes {
		return cfg, fmt.Errorf("file is larger than %d bytes", maxResolvConfBytes)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") || strings.HasPrefix(fields[0], ";") {
			continue
		}
		switch fields[0] {
		case "nameserver":
			if len(fields) < 2 {
				return cfg, fmt.Errorf("nameserver list is empty")
			}
			cfg.servers = append(cfg.servers, fields[1])
		case "search":
			cfg.searches = nil
			for _, s := range fields[1:] {
				if s != "." {
					cfg.searches = append(cfg.searches, strings.TrimSuffix(s, "."))
				}
			}
		case "options":
			for _, o := range fields[1:] {
				cfg.options = setOption(cfg.options, o)
			}
		}
	}
	return cfg, nil
}

// setOption adds option o (name or name:value), replacing one of the same name in place.
func setOption(opts []string, o string) []string {
	name, _, _ := strings.Cut(o, ":")
	for i, old := range opts {
		if n, _, _ := strings.Cut(old, ":"); n == name {
			opts[i] = o
			return opts
		}
	}
	return append(opts, o)
}

func mergeOptions(opts []string, extra []corev1.PodDNSConfigOption) []string {
	out := append([]string(nil), opts...)
	for _, o := range extra {
		s := o.Name
		if o.Value != nil && *o.Value != "" {
			s += ":" + *o.Value
		}
		out = setOption(out, s)
	}
	return out
}

// fitSearches applies the limits on the search list: at most 32 domains,
// none longer than 253 characters, at most 2048 characters joined.
func fitSearches(s []string) []string {
	if len(s) > maxSearchPaths {
		s = s[:maxSearchPaths]
	}
	kept := s[:0:0]
	for _, d := range s {
		if len(d) <= maxSearchLen {
			kept = append(kept, d)
		}
	}
	for len(kept) > 0 && len(strings.Join(kept, " ")) > maxSearchListChars {
		kept = kept[:len(kept)-1]
	}
	return kept
}

func dedup(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := make([]string, 0, len(in))
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func (c dnsConfig) render() string {
	var b strings.Builder
	for _, s := range c.servers {
		b.WriteString("nameserver " + s + "\n")
	}
	if len(c.searches) > 0 {
		b.WriteString("search " + strings.Join(c.searches, " ") + "\n")
	}
	if len(c.options) > 0 {
		b.WriteString("options " + strings.Join(c.options, " ") + "\n")
	}
	return b.String()
}
