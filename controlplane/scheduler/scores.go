package scheduler

import v1 "k8s.io/api/core/v1"

const maxNodeScore int64 = 100

// A score rates a feasible node for the pod; raw scores are normalized to
// 0..100 across the feasible nodes when normalize is set, then weighted.
// Weights are kube-scheduler's defaults for the matching plugins.
type score struct {
	name      string
	weight    int64
	fn        func(c *cycle, ni *NodeInfo) int64
	normalize func(scores []int64) // nil: raw scores are already 0..100
}

var scores = []score{
	{"NodeResourcesLeastAllocated", 1, func(c *cycle, ni *NodeInfo) int64 { return scoreLeastAllocated(c.pod, ni) }, nil},
	{"NodeAffinity", 2, func(c *cycle, ni *NodeInfo) int64 { return scorePreferredNodeAffinity(c.pod.pod, ni) }, normalizeScores(false)},
	{"TaintToleration", 3, func(c *cycle, ni *NodeInfo) int64 { return scorePreferNoSchedule(c.pod.pod, ni) }, normalizeScores(true)},
	{"SelectorSpread", 2, func(c *cycle, ni *NodeInfo) int64 { return scoreOwnerCount(c.pod, ni) }, spreadScores},
}

// scoreLeastAllocated favours nodes with more free cpu and memory after the
// pod is placed: the mean over both of (allocatable-requested)*100/allocatable,
// using default requests for containers without any.
func scoreLeastAllocated(pi *podInfo, ni *NodeInfo) int64 {
	cpu := leastAllocated(ni.nonZeroRequested.milliCPU+pi.nonZero.milliCPU, ni.allocatable.milliCPU)
	mem := leastAllocated(ni.nonZeroRequested.memory+pi.nonZero.memory, ni.allocatable.memory)
	return (cpu + mem) / 2
}

func leastAllocated(requested, capacity int64) int64 {
	if capacity == 0 || requested > capacity {
		return 0
	}
	return (capacity - requested) * maxNodeScore / capacity
}

// scorePreferredNodeAffinity sums the weights of the preferred node
// affinity terms the node matches.
func scorePreferredNodeAffinity(pod *v1.Pod, ni *NodeInfo) int64 {
	a := pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil {
		return 0
	}
	var sum int64
	for i := range a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
		t := &a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution[i]
		if t.Weight != 0 && termMatches(&t.Preference, ni.node) {
			sum += int64(t.Weight)
		}
	}
	return sum
}

// scorePreferNoSchedule counts the node's PreferNoSchedule taints the pod
// does not tolerate (only tolerations with an empty or PreferNoSchedule
// effect count); fewer is better, so it is normalized in reverse.
func scorePreferNoSchedule(pod *v1.Pod, ni *NodeInfo) int64 {
	var tols []v1.Toleration
	for _, t := range pod.Spec.Tolerations {
		if t.Effect == "" || t.Effect == v1.TaintEffectPreferNoSchedule {
			tols = append(tols, t)
		}
	}
	var n int64
	for i := range ni.node.Spec.Taints {
		t := &ni.node.Spec.Taints[i]
		if t.Effect == v1.TaintEffectPreferNoSchedule && !toleratedBy(t, tols) {
			n++
		}
	}
	return n
}

// scoreOwnerCount counts the pods on the node with the same controller as
// the pod; spreadScores turns fewer into better.
func scoreOwnerCount(pi *podInfo, ni *NodeInfo) int64 {
	if pi.owner == "" {
		return 0
	}
	return int64(ni.owners[pi.owner])
}

// normalizeScores scales scores to 0..maxNodeScore by the highest one,
// reversed when lower raw scores are better (kube-scheduler's
// DefaultNormalizeScore).
func normalizeScores(reverse bool) func([]int64) {
	return func(s []int64) {
		var hi int64
		for _, v := range s {
			hi = max(hi, v)
		}
		if hi == 0 {
			if reverse {
				for i := range s {
					s[i] = maxNodeScore
				}
			}
			return
		}
		for i, v := range s {
			v = maxNodeScore * v / hi
			if reverse {
				v = maxNodeScore - v
			}
			s[i] = v
		}
	}
}

// spreadScores maps owner counts to maxNodeScore*(max-count)/max, as the
// SelectorSpread plugin did: emptiest nodes score highest.
func spreadScores(s []int64) {
	var hi int64
	for _, v := range s {
		hi = max(hi, v)
	}
	for i, v := range s {
		if hi == 0 {
			s[i] = maxNodeScore
			continue
		}
		s[i] = maxNodeScore * (hi - v) / hi
	}
}
