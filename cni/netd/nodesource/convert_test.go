package nodesource

import (
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"rudder/cni/netd/netstate"
)

func kubeNode(name, podCIDR, internalIP string, ann map[string]string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: ann}}
	n.Spec.PodCIDR = podCIDR
	if internalIP != "" {
		n.Status.Addresses = []corev1.NodeAddress{
			{Type: corev1.NodeHostName, Address: name},
			{Type: corev1.NodeInternalIP, Address: internalIP},
		}
	}
	return n
}

func TestFromNode(t *testing.T) {
	mac, _ := netstate.ParseMAC("0e:72:c6:12:00:0c")
	cases := []struct {
		name string
		in   *corev1.Node
		want netstate.Node
	}{
		{"annotations win", kubeNode("n2", "10.244.2.0/24", "10.0.0.2",
			map[string]string{AnnotationPublicIP: "198.18.0.12", AnnotationVTEPMAC: "0e:72:c6:12:00:0c"}),
			netstate.Node{Name: "n2", PodCIDR: netip.MustParsePrefix("10.244.2.0/24"),
				PublicIP: netip.MustParseAddr("198.18.0.12"), VTEPMAC: mac}},
		{"InternalIP fallback", kubeNode("n3", "10.244.3.0/24", "198.18.0.13", nil),
			netstate.Node{Name: "n3", PodCIDR: netip.MustParsePrefix("10.244.3.0/24"), PublicIP: netip.MustParseAddr("198.18.0.13")}},
		{"garbage counts as absent", kubeNode("n4", "nonsense", "", map[string]string{AnnotationPublicIP: "x", AnnotationVTEPMAC: "y"}),
			netstate.Node{Name: "n4"}},
		{"unmasked podCIDR", kubeNode("n5", "10.244.5.9/24", "", nil),
			netstate.Node{Name: "n5", PodCIDR: netip.MustParsePrefix("10.244.5.0/24")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := FromNode(tc.in); got != tc.want {
				t.Errorf("FromNode = %+v, want %+v", got, tc.want)
			}
		})
	}
	dual := kubeNode("n6", "", "", nil)
	dual.Spec.PodCIDRs = []string{"fd00:10::/64", "10.244.6.0/24"}
	if got := FromNode(dual).PodCIDR; got != netip.MustParsePrefix("10.244.6.0/24") {
		t.Errorf("podCIDRs: got %s, want the IPv4 one", got)
	}
}
