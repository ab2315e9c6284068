package scheduler

import (
	"fmt"
	"strconv"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Reasons, worded exactly as kube-scheduler's plugins word them, because
// users grep for them and tools parse the FailedScheduling message.
const (
	reasonNodeName         = "node(s) didn't match the requested node name"
	reasonNodeAffinity     = "node(s) didn't match Pod's node affinity/selector"
	reasonUnschedulable    = "node(s) were unschedulable"
	reasonPorts            = "node(s) didn't have free ports for the requested pod ports"
	reasonAntiAffinity     = "node(s) didn't match pod anti-affinity rules"
	reasonExistingAntiAff  = "node(s) didn't satisfy existing pods anti-affinity rules"
	reasonTooManyPods      = "Too many pods"
	reasonInsufficientCPU  = "Insufficient cpu"
	reasonInsufficientMem  = "Insufficient memory"
	hostnameLabel          = "kubernetes.io/hostname"
	unschedulableTaintKey  = "node.kubernetes.io/unschedulable"
	untoleratedTaintFormat = "node(s) had untolerated taint {%s: %s}"
)

// A filter answers whether pod fits on ni; a non-empty result lists why not.
// Filters run in kube-scheduler's order and the first that fails decides a
// node's reasons, so the histogram in the final message matches upstream.
type filter struct {
	name string
	fn   func(c *cycle, ni *NodeInfo) []string
}

var filters = []filter{
	{"NodeUnschedulable", func(c *cycle, ni *NodeInfo) []string { return one(filterUnschedulable(c.pod.pod, ni)) }},
	{"NodeName", func(c *cycle, ni *NodeInfo) []string { return one(filterNodeName(c.pod.pod, ni)) }},
	{"TaintToleration", func(c *cycle, ni *NodeInfo) []string { return one(filterTaints(c.pod.pod, ni)) }},
	{"NodeAffinity", func(c *cycle, ni *NodeInfo) []string { return one(filterNodeAffinity(c.pod.pod, ni)) }},
	{"NodePorts", func(c *cycle, ni *NodeInfo) []string { return one(filterPorts(c.pod, ni)) }},
	{"NodeResourcesFit", func(c *cycle, ni *NodeInfo) []string { return filterResources(c.pod, ni) }},
	{"InterPodAffinity", func(c *cycle, ni *NodeInfo) []string { return one(c.anti.filter(ni)) }},
}

func one(reason string) []string {
	if reason == "" {
		return nil
	}
	return []string{reason}
}

// filterNodeName: a pod that names its node fits only there.
func filterNodeName(pod *v1.Pod, ni *NodeInfo) string {
	if pod.Spec.NodeName != "" && pod.Spec.NodeName != ni.node.Name {
		return reasonNodeName
	}
	return ""
}

// filterUnschedulable: cordoned nodes take only pods tolerating the
// node.kubernetes.io/unschedulable:NoSchedule taint.
func filterUnschedulable(pod *v1.Pod, ni *NodeInfo) string {
	if !ni.node.Spec.Unschedulable {
		return ""
	}
	taint := v1.Taint{Key: unschedulableTaintKey, Effect: v1.TaintEffectNoSchedule}
	for i := range pod.Spec.Tolerations {
		if tolerates(&pod.Spec.Tolerations[i], &taint) {
			return ""
		}
	}
	return reasonUnschedulable
}

// filterTaints: every NoSchedule and NoExecute taint must be tolerated; the
// reason names the first that is not.
func filterTaints(pod *v1.Pod, ni *NodeInfo) string {
	for i := range ni.node.Spec.Taints {
		t := &ni.node.Spec.Taints[i]
		if t.Effect != v1.TaintEffectNoSchedule && t.Effect != v1.TaintEffectNoExecute {
			continue
		}
		if !toleratedBy(t, pod.Spec.Tolerations) {
			return fmt.Sprintf(untoleratedTaintFormat, t.Key, t.Value)
		}
	}
	return ""
}

func toleratedBy(t *v1.Taint, tols []v1.Toleration) bool {
	for i := range tols {
		if tolerates(&tols[i], t) {
			return true
		}
	}
	return false
}

// tolerates follows v1.Toleration.ToleratesTaint: an empty effect matches all
// effects, an empty key with Exists matches all keys.
func tolerates(tol *v1.Toleration, t *v1.Taint) bool {
	if tol.Effect != "" && tol.Effect != t.Effect {
		return false
	}
	if tol.Key != t.Key && !(tol.Key == "" && tol.Operator == v1.TolerationOpExists) {
		return false
	}
	switch tol.Operator {
	case "", v1.TolerationOpEqual:
		return tol.Value == t.Value
	case v1.TolerationOpExists:
		return true
	}
	return false
}

// filterNodeAffinity: spec.nodeSelector and required node affinity must
// both match.
func filterNodeAffinity(pod *v1.Pod, ni *NodeInfo) string {
	node := ni.node
	for k, v := range pod.Spec.NodeSelector {
		if lv, ok := node.Labels[k]; !ok || lv != v {
			return reasonNodeAffinity
		}
	}
	a := pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return ""
	}
	for i := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		if termMatches(&a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[i], node) {
			return ""
		}
	}
	return reasonNodeAffinity
}

// termMatches ANDs a term's expressions and fields; an empty term matches
// nothing, as upstream.
func termMatches(term *v1.NodeSelectorTerm, node *v1.Node) bool {
	if len(term.MatchExpressions) == 0 && len(term.MatchFields) == 0 {
		return false
	}
	for i := range term.MatchExpressions {
		if !requirementMatches(&term.MatchExpressions[i], node.Labels) {
			return false
		}
	}
	for i := range term.MatchFields {
		f := &term.MatchFields[i]
		if f.Key != "metadata.name" {
			return false
		}
		if !requirementMatches(f, map[string]string{"metadata.name": node.Name}) {
			return false
		}
	}
	return true
}

func requirementMatches(r *v1.NodeSelectorRequirement, lbls map[string]string) bool {
	v, has := lbls[r.Key]
	switch r.Operator {
	case v1.NodeSelectorOpIn:
		return has && contains(r.Values, v)
	case v1.NodeSelectorOpNotIn:
		return !has || !contains(r.Values, v)
	case v1.NodeSelectorOpExists:
		return has
	case v1.NodeSelectorOpDoesNotExist:
		return !has
	case v1.NodeSelectorOpGt, v1.NodeSelectorOpLt:
		if !has || len(r.Values) != 1 {
			return false
		}
		want, err1 := strconv.ParseInt(r.Values[0], 10, 64)
		got, err2 := strconv.ParseInt(v, 10, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		if r.Operator == v1.NodeSelectorOpGt {
			return got > want
		}
		return got < want
	}
	return false
}

func contains(vals []string, v string) bool {
	for _, x := range vals {
		if x == v {
			return true
		}
	}
	return false
}

// filterPorts: a wanted host port conflicts with one in use on the same
// protocol and port when the IPs are equal or either is 0.0.0.0.
func filterPorts(pi *podInfo, ni *NodeInfo) string {
	for _, hp := range pi.ports {
		used := ni.usedPorts[protoPort{hp.protocol, hp.port}]
		if len(used) == 0 {
			continue
		}
		if hp.ip == "0.0.0.0" || used["0.0.0.0"] > 0 || used[hp.ip] > 0 {
			return reasonPorts
		}
	}
	return ""
}

// filterResources compares the pod's requests with what is left of the
// node's allocatable cpu, memory and pods; it may give several reasons.
func filterResources(pi *podInfo, ni *NodeInfo) []string {
	var out []string
	if int64(len(ni.pods))+1 > ni.allowedPods {
		out = append(out, reasonTooManyPods)
	}
	if pi.requests.milliCPU > 0 && pi.requests.milliCPU > ni.allocatable.milliCPU-ni.requested.milliCPU {
		out = append(out, reasonInsufficientCPU)
	}
	if pi.requests.memory > 0 && pi.requests.memory > ni.allocatable.memory-ni.requested.memory {
		out = append(out, reasonInsufficientMem)
	}
	return out
}

// antiAffinity is the per-cycle state of the InterPodAffinity filter: the
// topology pairs the incoming pod must avoid (its own required anti-affinity
// terms matched by existing pods) and those that existing pods' terms forbid
// to it.
type antiAffinity struct {
	avoid     map[topologyPair]bool // from the incoming pod's terms
	forbidden map[topologyPair]bool // from existing pods' terms
}

type topologyPair struct{ key, value string }

// requiredAntiAffinityTerms returns the pod's required anti-affinity terms.
func requiredAntiAffinityTerms(pod *v1.Pod) []v1.PodAffinityTerm {
	if a := pod.Spec.Affinity; a != nil && a.PodAntiAffinity != nil {
		return a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution
	}
	return nil
}

// termSelectsPod reports whether term, declared by a pod in namespace ns,
// selects target. A non-nil namespaceSelector is honoured only when empty
// (all namespaces); namespace labels are not consulted.
func termSelectsPod(term *v1.PodAffinityTerm, ns string, target *v1.Pod) bool {
	switch {
	case len(term.Namespaces) > 0:
		if !contains(term.Namespaces, target.Namespace) &&
			!(term.NamespaceSelector != nil && len(term.NamespaceSelector.MatchLabels) == 0 && len(term.NamespaceSelector.MatchExpressions) == 0) {
			return false
		}
	case term.NamespaceSelector != nil && len(term.NamespaceSelector.MatchLabels) == 0 && len(term.NamespaceSelector.MatchExpressions) == 0:
		// all namespaces
	default:
		if target.Namespace != ns {
			return false
		}
	}
	sel, err := metav1.LabelSelectorAsSelector(term.LabelSelector)
	if err != nil || term.LabelSelector == nil {
		return false
	}
	return sel.Matches(labels.Set(target.Labels))
}

// newAntiAffinity precomputes the state for pod over all nodes; it only walks
// pods when either side has required anti-affinity.
func newAntiAffinity(pod *v1.Pod, nodes []*NodeInfo) antiAffinity {
	var st antiAffinity
	own := requiredAntiAffinityTerms(pod)
	for _, ni := range nodes {
		if ni.node == nil || (len(own) == 0 && ni.antiAffinityPods == 0) {
			continue
		}
		for _, ep := range ni.pods {
			for i := range own {
				t := &own[i]
				if v, ok := ni.node.Labels[t.TopologyKey]; ok && termSelectsPod(t, pod.Namespace, ep.pod) {
					if st.avoid == nil {
						st.avoid = map[topologyPair]bool{}
					}
					st.avoid[topologyPair{t.TopologyKey, v}] = true
				}
			}
			if !ep.hasRequiredAntiAffinity {
				continue
			}
			terms := requiredAntiAffinityTerms(ep.pod)
			for i := range terms {
				t := &terms[i]
				if v, ok := ni.node.Labels[t.TopologyKey]; ok && termSelectsPod(t, ep.pod.Namespace, pod) {
					if st.forbidden == nil {
						st.forbidden = map[topologyPair]bool{}
					}
					st.forbidden[topologyPair{t.TopologyKey, v}] = true
				}
			}
		}
	}
	return st
}

func (st *antiAffinity) filter(ni *NodeInfo) string {
	if len(st.avoid) == 0 && len(st.forbidden) == 0 {
		return ""
	}
	// Existing pods' rules are checked first, as upstream.
	for k, v := range ni.node.Labels {
		if st.forbidden[topologyPair{k, v}] {
			return reasonExistingAntiAff
		}
	}
	for k, v := range ni.node.Labels {
		if st.avoid[topologyPair{k, v}] {
			return reasonAntiAffinity
		}
	}
	return ""
}
