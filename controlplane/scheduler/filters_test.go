package scheduler

import (
	"slices"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestFilterNodeName(t *testing.T) {
	n := newNodeInfoFor(node("n1", 1000, gi, 10))
	for _, tc := range []struct {
		name, nodeName, want string
	}{
		{"unset", "", ""},
		{"this node", "n1", ""},
		{"other node", "n2", reasonNodeName},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := filterNodeName(pod("p", 0, 0, onNode(tc.nodeName)), n); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestFilterUnschedulable(t *testing.T) {
	for _, tc := range []struct {
		name string
		node *v1.Node
		pod  *v1.Pod
		want string
	}{
		{"schedulable", node("n", 1000, gi, 10), pod("p", 0, 0), ""},
		{"cordoned", node("n", 1000, gi, 10, cordoned), pod("p", 0, 0), reasonUnschedulable},
		{"cordoned, tolerated", node("n", 1000, gi, 10, cordoned),
			pod("p", 0, 0, tolerations(v1.Toleration{Key: unschedulableTaintKey, Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoSchedule})), ""},
		{"cordoned, tolerate everything", node("n", 1000, gi, 10, cordoned),
			pod("p", 0, 0, tolerations(v1.Toleration{Operator: v1.TolerationOpExists})), ""},
		{"cordoned, wrong effect", node("n", 1000, gi, 10, cordoned),
			pod("p", 0, 0, tolerations(v1.Toleration{Key: unschedulableTaintKey, Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoExecute})), reasonUnschedulable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := filterUnschedulable(tc.pod, newNodeInfoFor(tc.node)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestFilterTaints(t *testing.T) {
	noSched := v1.Taint{Key: "dedicated", Value: "gpu", Effect: v1.TaintEffectNoSchedule}
	noExec := v1.Taint{Key: "node.kubernetes.io/not-ready", Effect: v1.TaintEffectNoExecute}
	prefer := v1.Taint{Key: "soft", Value: "x", Effect: v1.TaintEffectPreferNoSchedule}
	for _, tc := range []struct {
		name   string
		taints []v1.Taint
		tols   []v1.Toleration
		want   string
	}{
		{"no taints", nil, nil, ""},
		{"NoSchedule untolerated", []v1.Taint{noSched}, nil, "node(s) had untolerated taint {dedicated: gpu}"},
		{"NoExecute untolerated", []v1.Taint{noExec}, nil, "node(s) had untolerated taint {node.kubernetes.io/not-ready: }"},
		{"PreferNoSchedule ignored", []v1.Taint{prefer}, nil, ""},
		{"Equal match", []v1.Taint{noSched}, []v1.Toleration{{Key: "dedicated", Operator: v1.TolerationOpEqual, Value: "gpu", Effect: v1.TaintEffectNoSchedule}}, ""},
		{"default operator is Equal", []v1.Taint{noSched}, []v1.Toleration{{Key: "dedicated", Value: "gpu"}}, ""},
		{"Equal wrong value", []v1.Taint{noSched}, []v1.Toleration{{Key: "dedicated", Value: "cpu"}}, "node(s) had untolerated taint {dedicated: gpu}"},
		{"Exists any value", []v1.Taint{noSched}, []v1.Toleration{{Key: "dedicated", Operator: v1.TolerationOpExists}}, ""},
		{"wrong effect", []v1.Taint{noSched}, []v1.Toleration{{Key: "dedicated", Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoExecute}}, "node(s) had untolerated taint {dedicated: gpu}"},
		{"empty key Exists tolerates all", []v1.Taint{noSched, noExec}, []v1.Toleration{{Operator: v1.TolerationOpExists}}, ""},
		{"second taint untolerated", []v1.Taint{noSched, noExec}, []v1.Toleration{{Key: "dedicated", Operator: v1.TolerationOpExists}}, "node(s) had untolerated taint {node.kubernetes.io/not-ready: }"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := filterTaints(pod("p", 0, 0, tolerations(tc.tols...)), newNodeInfoFor(node("n", 1000, gi, 10, withTaints(tc.taints...))))
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestFilterNodeAffinity(t *testing.T) {
	n := node("n1", 1000, gi, 10, withLabels("zone", "a", "disk", "ssd", "cores", "8"))
	selector := func(kv ...string) func(*v1.Pod) {
		return func(p *v1.Pod) {
			p.Spec.NodeSelector = map[string]string{}
			for i := 0; i+1 < len(kv); i += 2 {
				p.Spec.NodeSelector[kv[i]] = kv[i+1]
			}
		}
	}
	fields := v1.NodeSelectorTerm{MatchFields: []v1.NodeSelectorRequirement{{Key: "metadata.name", Operator: v1.NodeSelectorOpIn, Values: []string{"n1"}}}}
	otherField := v1.NodeSelectorTerm{MatchFields: []v1.NodeSelectorRequirement{{Key: "metadata.name", Operator: v1.NodeSelectorOpIn, Values: []string{"n2"}}}}
	for _, tc := range []struct {
		name string
		muts []func(*v1.Pod)
		fits bool
	}{
		{"nothing", nil, true},
		{"selector match", []func(*v1.Pod){selector("zone", "a")}, true},
		{"selector mismatch", []func(*v1.Pod){selector("zone", "b")}, false},
		{"selector missing label", []func(*v1.Pod){selector("gpu", "yes")}, false},
		{"In", []func(*v1.Pod){requiredNodeAffinity(expr("zone", v1.NodeSelectorOpIn, "b", "a"))}, true},
		{"In miss", []func(*v1.Pod){requiredNodeAffinity(expr("zone", v1.NodeSelectorOpIn, "b"))}, false},
		{"NotIn", []func(*v1.Pod){requiredNodeAffinity(expr("zone", v1.NodeSelectorOpNotIn, "b"))}, true},
		{"NotIn miss", []func(*v1.Pod){requiredNodeAffinity(expr("zone", v1.NodeSelectorOpNotIn, "a"))}, false},
		{"NotIn absent label", []func(*v1.Pod){requiredNodeAffinity(expr("gpu", v1.NodeSelectorOpNotIn, "yes"))}, true},
		{"Exists", []func(*v1.Pod){requiredNodeAffinity(expr("disk", v1.NodeSelectorOpExists))}, true},
		{"Exists miss", []func(*v1.Pod){requiredNodeAffinity(expr("gpu", v1.NodeSelectorOpExists))}, false},
		{"DoesNotExist", []func(*v1.Pod){requiredNodeAffinity(expr("gpu", v1.NodeSelectorOpDoesNotExist))}, true},
		{"DoesNotExist miss", []func(*v1.Pod){requiredNodeAffinity(expr("disk", v1.NodeSelectorOpDoesNotExist))}, false},
		{"Gt", []func(*v1.Pod){requiredNodeAffinity(expr("cores", v1.NodeSelectorOpGt, "4"))}, true},
		{"Gt equal", []func(*v1.Pod){requiredNodeAffinity(expr("cores", v1.NodeSelectorOpGt, "8"))}, false},
		{"Gt not a number", []func(*v1.Pod){requiredNodeAffinity(expr("zone", v1.NodeSelectorOpGt, "1"))}, false},
		{"Lt", []func(*v1.Pod){requiredNodeAffinity(expr("cores", v1.NodeSelectorOpLt, "16"))}, true},
		{"Lt miss", []func(*v1.Pod){requiredNodeAffinity(expr("cores", v1.NodeSelectorOpLt, "8"))}, false},
		{"Lt absent label", []func(*v1.Pod){requiredNodeAffinity(expr("gpus", v1.NodeSelectorOpLt, "8"))}, false},
		{"terms are ORed", []func(*v1.Pod){requiredNodeAffinity(expr("zone", v1.NodeSelectorOpIn, "b"), expr("disk", v1.NodeSelectorOpIn, "ssd"))}, true},
		{"expressions are ANDed", []func(*v1.Pod){requiredNodeAffinity(v1.NodeSelectorTerm{MatchExpressions: []v1.NodeSelectorRequirement{
			{Key: "zone", Operator: v1.NodeSelectorOpIn, Values: []string{"a"}},
			{Key: "disk", Operator: v1.NodeSelectorOpIn, Values: []string{"hdd"}},
		}})}, false},
		{"empty term matches nothing", []func(*v1.Pod){requiredNodeAffinity(v1.NodeSelectorTerm{})}, false},
		{"no terms match nothing", []func(*v1.Pod){requiredNodeAffinity()}, false},
		{"matchFields name", []func(*v1.Pod){requiredNodeAffinity(fields)}, true},
		{"matchFields other name", []func(*v1.Pod){requiredNodeAffinity(otherField)}, false},
		{"selector and affinity both needed", []func(*v1.Pod){selector("zone", "b"), requiredNodeAffinity(expr("disk", v1.NodeSelectorOpExists))}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := reasonNodeAffinity
			if tc.fits {
				want = ""
			}
			if got := filterNodeAffinity(pod("p", 0, 0, tc.muts...), newNodeInfoFor(n)); got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

func TestFilterPorts(t *testing.T) {
	tcp := func(port int32, ip string) v1.ContainerPort {
		return v1.ContainerPort{ContainerPort: 80, HostPort: port, HostIP: ip, Protocol: v1.ProtocolTCP}
	}
	udp := func(port int32) v1.ContainerPort {
		return v1.ContainerPort{ContainerPort: 53, HostPort: port, Protocol: v1.ProtocolUDP}
	}
	for _, tc := range []struct {
		name       string
		used, want []v1.ContainerPort
		fits       bool
	}{
		{"no ports", nil, nil, true},
		{"free", []v1.ContainerPort{tcp(80, "")}, []v1.ContainerPort{tcp(81, "")}, true},
		{"same port", []v1.ContainerPort{tcp(80, "")}, []v1.ContainerPort{tcp(80, "")}, false},
		{"other protocol", []v1.ContainerPort{tcp(53, "")}, []v1.ContainerPort{udp(53)}, true},
		{"different IPs", []v1.ContainerPort{tcp(80, "10.0.0.1")}, []v1.ContainerPort{tcp(80, "10.0.0.2")}, true},
		{"same IP", []v1.ContainerPort{tcp(80, "10.0.0.1")}, []v1.ContainerPort{tcp(80, "10.0.0.1")}, false},
		{"wildcard wanted", []v1.ContainerPort{tcp(80, "10.0.0.1")}, []v1.ContainerPort{tcp(80, "0.0.0.0")}, false},
		{"wildcard used", []v1.ContainerPort{tcp(80, "")}, []v1.ContainerPort{tcp(80, "10.0.0.2")}, false},
		{"container port only", []v1.ContainerPort{{ContainerPort: 80}}, []v1.ContainerPort{{ContainerPort: 80}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ni := newNodeInfoFor(node("n", 1000, gi, 10), pod("old", 0, 0, onNode("n"), hostPorts(tc.used...)))
			want := reasonPorts
			if tc.fits {
				want = ""
			}
			if got := filterPorts(newPodInfo(pod("p", 0, 0, hostPorts(tc.want...))), ni); got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

func TestFilterResources(t *testing.T) {
	for _, tc := range []struct {
		name     string
		existing []*v1.Pod
		pod      *v1.Pod
		want     []string
	}{
		{"empty node", nil, pod("p", 500, gi/2), nil},
		{"exactly fits", []*v1.Pod{pod("a", 500, gi/2, onNode("n"))}, pod("p", 500, gi/2), nil},
		{"cpu", []*v1.Pod{pod("a", 600, 0, onNode("n"))}, pod("p", 500, 0), []string{reasonInsufficientCPU}},
		{"memory", []*v1.Pod{pod("a", 0, gi, onNode("n"))}, pod("p", 0, 1), []string{reasonInsufficientMem}},
		{"cpu and memory", []*v1.Pod{pod("a", 1000, gi, onNode("n"))}, pod("p", 1, 1), []string{reasonInsufficientCPU, reasonInsufficientMem}},
		{"no requests fit a full node", []*v1.Pod{pod("a", 1000, gi, onNode("n"))}, pod("p", 0, 0), nil},
		{"too many pods", []*v1.Pod{pod("a", 0, 0, onNode("n")), pod("b", 0, 0, onNode("n"))}, pod("p", 0, 0), []string{reasonTooManyPods}},
		{"init container larger than containers", nil, pod("p", 100, 0, func(p *v1.Pod) {
			p.Spec.InitContainers = []v1.Container{{Name: "i", Resources: v1.ResourceRequirements{Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("2")}}}}
		}), []string{reasonInsufficientCPU}},
		{"overhead counts", nil, pod("p", 900, 0, func(p *v1.Pod) {
			p.Spec.Overhead = v1.ResourceList{v1.ResourceCPU: resource.MustParse("200m")}
		}), []string{reasonInsufficientCPU}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ni := newNodeInfoFor(node("n", 1000, gi, 2), tc.existing...)
			if got := filterResources(newPodInfo(tc.pod), ni); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestFilterPodAntiAffinity(t *testing.T) {
	n1 := node("n1", 1000, gi, 10, withLabels("zone", "a"))
	n2 := node("n2", 1000, gi, 10, withLabels("zone", "a"))
	n3 := node("n3", 1000, gi, 10, withLabels("zone", "b"))
	for _, tc := range []struct {
		name     string
		existing []*v1.Pod
		pod      *v1.Pod
		want     map[string]string // node → reason
	}{
		{"no rules", []*v1.Pod{pod("a", 0, 0, onNode("n1"), podLabels("app", "web"))}, pod("p", 0, 0, podLabels("app", "web")), nil},
		{"hostname", []*v1.Pod{pod("a", 0, 0, onNode("n1"), podLabels("app", "web"))},
			pod("p", 0, 0, podLabels("app", "web"), requiredAntiAffinity(hostnameLabel, "app", "web")),
			map[string]string{"n1": reasonAntiAffinity}},
		{"selector does not match", []*v1.Pod{pod("a", 0, 0, onNode("n1"), podLabels("app", "db"))},
			pod("p", 0, 0, requiredAntiAffinity(hostnameLabel, "app", "web")), nil},
		{"other namespace", []*v1.Pod{pod("a", 0, 0, onNode("n1"), podLabels("app", "web"), func(p *v1.Pod) { p.Namespace = "other" })},
			pod("p", 0, 0, requiredAntiAffinity(hostnameLabel, "app", "web")), nil},
		{"zone", []*v1.Pod{pod("a", 0, 0, onNode("n1"), podLabels("app", "web"))},
			pod("p", 0, 0, requiredAntiAffinity("zone", "app", "web")),
			map[string]string{"n1": reasonAntiAffinity, "n2": reasonAntiAffinity}},
		{"existing pod's rule", []*v1.Pod{pod("a", 0, 0, onNode("n3"), requiredAntiAffinity(hostnameLabel, "app", "web"))},
			pod("p", 0, 0, podLabels("app", "web")),
			map[string]string{"n3": reasonExistingAntiAff}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			infos := []*NodeInfo{newNodeInfo(), newNodeInfo(), newNodeInfo()}
			for i, n := range []*v1.Node{n1, n2, n3} {
				infos[i].setNode(n)
				for _, p := range tc.existing {
					if p.Spec.NodeName == n.Name {
						infos[i].addPod(newPodInfo(p))
					}
				}
			}
			st := newAntiAffinity(tc.pod, infos)
			for _, ni := range infos {
				if got := st.filter(ni); got != tc.want[ni.node.Name] {
					t.Errorf("%s: got %q, want %q", ni.node.Name, got, tc.want[ni.node.Name])
				}
			}
		})
	}
}
