package podenv

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func hostPod(name, hostname, subdomain string, fqdn *bool) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: name},
		Spec:       corev1.PodSpec{Hostname: hostname, Subdomain: subdomain, SetHostnameAsFQDN: fqdn},
	}
}

func TestHostname(t *testing.T) {
	long := strings.Repeat("a", 62) + "-b"
	tests := []struct {
		name               string
		pod                *corev1.Pod
		wantHost, wantFQDN string
		wantErr            string
	}{
		{name: "pod name", pod: hostPod("web-0", "", "", nil), wantHost: "web-0"},
		{name: "spec.hostname", pod: hostPod("web-0", "front", "", nil), wantHost: "front"},
		{name: "subdomain", pod: hostPod("web-0", "", "web", nil), wantHost: "web-0", wantFQDN: "web-0.web.team.svc.cluster.local"},
		{name: "hostname and subdomain", pod: hostPod("web-0", "h", "web", ptr(false)), wantHost: "h", wantFQDN: "h.web.team.svc.cluster.local"},
		{name: "as FQDN", pod: hostPod("web-0", "", "web", ptr(true)), wantHost: "web-0.web.team.svc.cluster.local", wantFQDN: "web-0.web.team.svc.cluster.local"},
		{name: "as FQDN without subdomain", pod: hostPod("web-0", "", "", ptr(true)), wantHost: "web-0"},
		{name: "truncated, trailing dash removed", pod: hostPod(long, "", "", nil), wantHost: strings.Repeat("a", 62)},
		{name: "truncated with dots", pod: hostPod(strings.Repeat("a", 61)+"..x", "", "", nil), wantHost: strings.Repeat("a", 61)},
		{
			name:    "FQDN too long",
			pod:     hostPod(strings.Repeat("a", 40), "", "web", ptr(true)),
			wantErr: "failed to construct FQDN from pod hostname and cluster domain, FQDN " + strings.Repeat("a", 40) + ".web.team.svc.cluster.local is too long (64 characters is the max, 67 characters requested)",
		},
		{name: "bad hostname", pod: hostPod("web-0", "Bad_Host", "", nil), wantErr: `pod Hostname "Bad_Host" is not a valid DNS label`},
		{name: "bad subdomain", pod: hostPod("web-0", "", "a.b", nil), wantErr: `pod Subdomain "a.b" is not a valid DNS label`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, f, err := Hostname(tt.pod, "cluster.local")
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want prefix %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if h != tt.wantHost || f != tt.wantFQDN {
				t.Errorf("got %q %q, want %q %q", h, f, tt.wantHost, tt.wantFQDN)
			}
		})
	}
	if _, _, err := Hostname(nil, "x"); err == nil {
		t.Error("no error for a nil pod")
	}
}

func TestHosts(t *testing.T) {
	const local = "# Kubernetes-managed hosts file.\n" +
		"127.0.0.1\tlocalhost\n" +
		"::1\tlocalhost ip6-localhost ip6-loopback\n" +
		"fe00::0\tip6-localnet\n" +
		"fe00::0\tip6-mcastprefix\n" +
		"fe00::1\tip6-allnodes\n" +
		"fe00::2\tip6-allrouters\n"
	aliases := []corev1.HostAlias{
		{IP: "10.1.1.1", Hostnames: []string{"foo.local", "bar.local"}},
		{IP: "fd00::1", Hostnames: []string{"six"}},
	}
	aliasLines := "\n# Entries added by HostAliases.\n10.1.1.1\tfoo.local\tbar.local\nfd00::1\tsix\n"
	withAliases := func(p *corev1.Pod) *corev1.Pod { p.Spec.HostAliases = aliases; return p }
	hostNet := func(p *corev1.Pod) *corev1.Pod { p.Spec.HostNetwork = true; return p }
	tests := []struct {
		name   string
		pod    *corev1.Pod
		podIPs []string
		want   string
	}{
		{"plain", hostPod("web-0", "", "", nil), []string{"10.244.1.7"}, local + "10.244.1.7\tweb-0\n"},
		{"dual stack, hostname", hostPod("web-0", "front", "", nil), []string{"10.244.1.7", "fd00::7"},
			local + "10.244.1.7\tfront\nfd00::7\tfront\n"},
		{"subdomain", hostPod("web-0", "", "web", nil), []string{"10.244.1.7"},
			local + "10.244.1.7\tweb-0.web.team.svc.cluster.local\tweb-0\n"},
		{"no IPs, aliases", withAliases(hostPod("web-0", "", "", nil)), nil, local + aliasLines},
		{"invalid subdomain ignored", hostPod("web-0", "", "A_B", nil), []string{"10.244.1.7"}, local + "10.244.1.7\tweb-0\n"},
		{"host network", hostNet(withAliases(hostPod("web-0", "", "", nil))), []string{"192.168.1.5"},
			"# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost node-a\n" + aliasLines},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Hosts(HostsInput{Pod: tt.pod, PodIPs: tt.podIPs, ClusterDomain: "cluster.local",
				NodeHosts: []byte("127.0.0.1 localhost node-a\n")})
			if got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}
