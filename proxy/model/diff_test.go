package model

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

func TestDiff(t *testing.T) {
	services := []*corev1.Service{svc("a", "10.96.0.1"), svc("b", "10.96.0.2"), svc("c", "10.96.0.3")}
	slices := []*discoveryv1.EndpointSlice{slice("a-1", "a", 8080, ep("10.244.1.5")), slice("b-1", "b", 8080, ep("10.244.1.6"))}
	old := Build(services, slices, testNode)

	changedSlices := []*discoveryv1.EndpointSlice{slice("a-1", "a", 8080, ep("10.244.1.5")), slice("b-1", "b", 8080, ep("10.244.1.7"))}
	movedNode := testNode
	movedNode.NodePortAddresses = addrs("192.168.1.11")
	tests := []struct {
		name string
		old  *State
		new  *State
		want []string
	}{
		{"same", old, Build(services, slices, testNode), nil},
		{"first sync", nil, old, []string{"ns/a:http/TCP", "ns/b:http/TCP", "ns/c:http/TCP"}},
		{"all removed", old, nil, []string{"ns/a:http/TCP", "ns/b:http/TCP", "ns/c:http/TCP"}},
		{"endpoint changed", old, Build(services, changedSlices, testNode), []string{"ns/b:http/TCP"}},
		{"added and removed", old, Build([]*corev1.Service{services[0], services[1], svc("d", "10.96.0.4")}, slices, testNode),
			[]string{"ns/c:http/TCP", "ns/d:http/TCP"}},
		{"frontend changed", old, Build([]*corev1.Service{services[0], services[1], svc("c", "10.96.0.33")}, slices, testNode),
			[]string{"ns/c:http/TCP"}},
		{"node changed", old, Build(services, slices, movedNode), []string{"ns/a:http/TCP", "ns/b:http/TCP", "ns/c:http/TCP"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, n := range Diff(tt.old, tt.new) {
				got = append(got, n.String())
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("Diff (-want +got):\n%s", d)
			}
		})
	}
}

func mustAddrPort(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
