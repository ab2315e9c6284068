package daemonset

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/rand"
)

// RevisionLabel is the pod label carrying the hash of the template a pod was
// made from.
const RevisionLabel = "controller-revision-hash"

// TemplateHash is the revision of a pod template: an FNV-32a hash of its JSON,
// safely encoded (no ControllerRevision objects are kept).
func TemplateHash(t *corev1.PodTemplateSpec) string {
	h := fnv.New32a()
	b, _ := json.Marshal(t)
	_, _ = h.Write(b)
	return rand.SafeEncodeString(fmt.Sprint(h.Sum32()))
}

// defaultTolerations are the ones upstream adds to every DaemonSet pod.
func defaultTolerations() []corev1.Toleration {
	exists := corev1.TolerationOpExists
	return []corev1.Toleration{
		{Key: corev1.TaintNodeNotReady, Operator: exists, Effect: corev1.TaintEffectNoExecute},
		{Key: corev1.TaintNodeUnreachable, Operator: exists, Effect: corev1.TaintEffectNoExecute},
		{Key: corev1.TaintNodeDiskPressure, Operator: exists, Effect: corev1.TaintEffectNoSchedule},
		{Key: corev1.TaintNodeMemoryPressure, Operator: exists, Effect: corev1.TaintEffectNoSchedule},
		{Key: corev1.TaintNodePIDPressure, Operator: exists, Effect: corev1.TaintEffectNoSchedule},
		{Key: corev1.TaintNodeUnschedulable, Operator: exists, Effect: corev1.TaintEffectNoSchedule},
	}
}

// addDefaultTolerations appends the default tolerations not already present.
func addDefaultTolerations(ts []corev1.Toleration) []corev1.Toleration {
	for _, d := range defaultTolerations() {
		found := false
		for _, t := range ts {
			if t.MatchToleration(&d) {
				found = true
				break
			}
		}
		if !found {
			ts = append(ts, d)
		}
	}
	return ts
}

// nodeFits reports whether a DaemonSet pod with spec should be created on
// node (shouldRun) and whether an existing one may stay (shouldContinue), as
// upstream: an untolerated NoSchedule taint blocks new pods but keeps
// running ones; an untolerated NoExecute taint, or a selector or required
// affinity mismatch, rules the node out. Unschedulable (cordoned) nodes are
// eligible, as the default tolerations cover that taint.
func nodeFits(spec *corev1.PodSpec, node *corev1.Node) (shouldRun, shouldContinue bool) {
	if len(spec.NodeSelector) > 0 &&
		!labels.SelectorFromSet(spec.NodeSelector).Matches(labels.Set(node.Labels)) {
		return false, false
	}
	if a := spec.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		if !matchNodeSelector(a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution, node) {
			return false, false
		}
	}
	tols := addDefaultTolerations(append([]corev1.Toleration(nil), spec.Tolerations...))
	shouldRun, shouldContinue = true, true
	for i := range node.Spec.Taints {
		taint := &node.Spec.Taints[i]
		if taint.Effect == corev1.TaintEffectPreferNoSchedule || tolerated(tols, taint) {
			continue
		}
		shouldRun = false
		if taint.Effect == corev1.TaintEffectNoExecute {
			shouldContinue = false
		}
	}
	return shouldRun, shouldContinue
}

func tolerated(tols []corev1.Toleration, t *corev1.Taint) bool {
	for i := range tols {
		if toleratesTaint(&tols[i], t) {
			return true
		}
	}
	return false
}

// toleratesTaint is the upstream rule without comparison operators: the
// effects match (or the toleration's is empty), the keys match (or the
// toleration's is empty with Exists), and Exists, or Equal with equal values.
func toleratesTaint(tol *corev1.Toleration, t *corev1.Taint) bool {
	if tol.Effect != "" && tol.Effect != t.Effect {
		return false
	}
	if tol.Key != "" && tol.Key != t.Key {
		return false
	}
	switch tol.Operator {
	case corev1.TolerationOpExists:
		return true
	case "", corev1.TolerationOpEqual:
		return tol.Key != "" && tol.Value == t.Value
	}
	return false
}

// matchNodeSelector: the terms are ORed, requirements within a term ANDed.
func matchNodeSelector(ns *corev1.NodeSelector, node *corev1.Node) bool {
	for _, term := range ns.NodeSelectorTerms {
		if len(term.MatchExpressions) == 0 && len(term.MatchFields) == 0 {
			continue
		}
		if matchReqs(term.MatchExpressions, node.Labels) &&
			matchReqs(term.MatchFields, map[string]string{"metadata.name": node.Name}) {
			return true
		}
	}
	return false
}

func matchReqs(reqs []corev1.NodeSelectorRequirement, set map[string]string) bool {
	for _, r := range reqs {
		v, has := set[r.Key]
		switch r.Operator {
		case corev1.NodeSelectorOpIn:
			if !has || !contains(r.Values, v) {
				return false
			}
		case corev1.NodeSelectorOpNotIn:
			if has && contains(r.Values, v) {
				return false
			}
		case corev1.NodeSelectorOpExists:
			if !has {
				return false
			}
		case corev1.NodeSelectorOpDoesNotExist:
			if has {
				return false
			}
		case corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt:
			if !has || len(r.Values) != 1 {
				return false
			}
			a, err1 := strconv.ParseInt(v, 10, 64)
			b, err2 := strconv.ParseInt(r.Values[0], 10, 64)
			if err1 != nil || err2 != nil {
				return false
			}
			if (r.Operator == corev1.NodeSelectorOpGt) != (a > b) || a == b {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func contains(vs []string, v string) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

// podNode is the node a DaemonSet pod is for: spec.nodeName once bound,
// otherwise the metadata.name matchField the controller put in its affinity.
func podNode(p *corev1.Pod) string {
	if p.Spec.NodeName != "" {
		return p.Spec.NodeName
	}
	a := p.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return ""
	}
	for _, t := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		for _, f := range t.MatchFields {
			if f.Key == "metadata.name" && f.Operator == corev1.NodeSelectorOpIn && len(f.Values) == 1 {
				return f.Values[0]
			}
		}
	}
	return ""
}

// setNodeAffinity replaces the pod's required node affinity with one term
// matching only node by metadata.name, as upstream; preferred terms stay.
func setNodeAffinity(spec *corev1.PodSpec, node string) {
	if spec.Affinity == nil {
		spec.Affinity = &corev1.Affinity{}
	}
	if spec.Affinity.NodeAffinity == nil {
		spec.Affinity.NodeAffinity = &corev1.NodeAffinity{}
	}
	spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchFields: []corev1.NodeSelectorRequirement{{
			Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{node},
		}}}},
	}
}

func isActive(p *corev1.Pod) bool {
	return p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed &&
		p.DeletionTimestamp == nil
}

func readyCondition(p *corev1.Pod) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == corev1.PodReady {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

// IsReady reports whether the pod's Ready condition is True.
func IsReady(p *corev1.Pod) bool {
	c := readyCondition(p)
	return c != nil && c.Status == corev1.ConditionTrue
}

// IsAvailable reports whether the pod has been ready for minReadySeconds.
func IsAvailable(p *corev1.Pod, minReadySeconds int32, now time.Time) bool {
	c := readyCondition(p)
	if c == nil || c.Status != corev1.ConditionTrue {
		return false
	}
	if minReadySeconds == 0 {
		return true
	}
	d := time.Duration(minReadySeconds) * time.Second
	return !c.LastTransitionTime.IsZero() && !c.LastTransitionTime.Add(d).After(now)
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}
