package registry

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// podQOS computes the QoS class as the kubelet and upstream do: BestEffort
// without any cpu/memory request or limit, Guaranteed when every container
// limits both cpu and memory and requests equal limits, else Burstable.
// Pod-level resources, when given, decide alone.
func podQOS(spec *corev1.PodSpec) corev1.PodQOSClass {
	if spec.Resources != nil && (len(spec.Resources.Requests) > 0 || len(spec.Resources.Limits) > 0) {
		req, lim, full := qosSums([]corev1.ResourceRequirements{*spec.Resources})
		return qosClass(req, lim, full)
	}
	var all []corev1.ResourceRequirements
	for _, c := range spec.Containers {
		all = append(all, c.Resources)
	}
	for _, c := range spec.InitContainers {
		all = append(all, c.Resources)
	}
	req, lim, full := qosSums(all)
	return qosClass(req, lim, full)
}

// qosSums adds up the positive cpu and memory requests and limits, and
// tells whether every entry limits both.
func qosSums(rs []corev1.ResourceRequirements) (req, lim corev1.ResourceList, full bool) {
	req, lim, full = corev1.ResourceList{}, corev1.ResourceList{}, true
	for _, r := range rs {
		addQOSResources(req, r.Requests)
		found := addQOSResources(lim, r.Limits)
		if found < 2 {
			full = false
		}
	}
	return req, lim, full
}

// addQOSResources adds the positive cpu and memory quantities of from to
// sum and returns how many of the two it found.
func addQOSResources(sum, from corev1.ResourceList) int {
	found := 0
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		q, ok := from[name]
		if !ok || q.Sign() <= 0 {
			continue
		}
		found++
		total := sum[name]
		if total.IsZero() {
			total = resource.Quantity{Format: q.Format}
		}
		total.Add(q)
		sum[name] = total
	}
	return found
}

func qosClass(req, lim corev1.ResourceList, full bool) corev1.PodQOSClass {
	if len(req) == 0 && len(lim) == 0 {
		return corev1.PodQOSBestEffort
	}
	if !full || len(req) != len(lim) {
		return corev1.PodQOSBurstable
	}
	for name, r := range req {
		if l, ok := lim[name]; !ok || l.Cmp(r) != 0 {
			return corev1.PodQOSBurstable
		}
	}
	return corev1.PodQOSGuaranteed
}
