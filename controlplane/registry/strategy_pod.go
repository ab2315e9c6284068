package registry

import (
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// What upstream's admission plugins add to every new Pod.
const (
	defaultTolerationSeconds  = 300 // DefaultTolerationSeconds plugin
	defaultServiceAccountName = "default"
	systemClusterCritical     = "system-cluster-critical"
	systemNodeCritical        = "system-node-critical"
)

func podStrategy() Strategy {
	return kind[*corev1.Pod]{
		namespaced:     true,
		name:           apivalidation.NameIsDNSSubdomain,
		status:         true,
		generation:     true,
		defaults:       defaultPod,
		create:         preparePodCreate,
		validate:       validatePod,
		validateUpdate: validatePodUpdate,
		validateStatus: validatePodStatus,
	}
}

// preparePodCreate sets the status a new Pod starts with and does what
// upstream's admission plugins do on create.
func preparePodCreate(pod *corev1.Pod) {
	pod.Status = corev1.PodStatus{Phase: corev1.PodPending, QOSClass: podQOS(&pod.Spec)}
	if g := pod.Spec.TerminationGracePeriodSeconds; g != nil && *g < 0 {
		pod.Spec.TerminationGracePeriodSeconds = ptr.To[int64](1)
	}
	addDefaultTolerations(&pod.Spec)
	setPodPriority(&pod.Spec)
	if pod.Spec.ServiceAccountName == "" {
		pod.Spec.ServiceAccountName = defaultServiceAccountName
	}
	pod.Spec.DeprecatedServiceAccount = pod.Spec.ServiceAccountName
}

// addDefaultTolerations tolerates the not-ready and unreachable NoExecute
// taints for 300 s unless the pod already tolerates them.
func addDefaultTolerations(spec *corev1.PodSpec) {
	for _, key := range []string{corev1.TaintNodeNotReady, corev1.TaintNodeUnreachable} {
		if tolerates(spec.Tolerations, key) {
			continue
		}
		spec.Tolerations = append(spec.Tolerations, corev1.Toleration{
			Key:               key,
			Operator:          corev1.TolerationOpExists,
			Effect:            corev1.TaintEffectNoExecute,
			TolerationSeconds: ptr.To[int64](defaultTolerationSeconds),
		})
	}
}

func tolerates(ts []corev1.Toleration, key string) bool {
	for _, t := range ts {
		if (t.Key == key || t.Key == "") && (t.Effect == corev1.TaintEffectNoExecute || t.Effect == "") {
			return true
		}
	}
	return false
}

// setPodPriority resolves the built-in priority classes; any other (or
// none) gets priority 0, as with no default PriorityClass upstream.
func setPodPriority(spec *corev1.PodSpec) {
	if spec.Priority == nil {
		var p int32
		switch spec.PriorityClassName {
		case systemNodeCritical:
			p = 2000001000
		case systemClusterCritical:
			p = 2000000000
		}
		spec.Priority = &p
	}
	if spec.PreemptionPolicy == nil {
		spec.PreemptionPolicy = ptr.To(corev1.PreemptLowerPriority)
	}
}

func validatePodStatus(pod, _ *corev1.Pod) field.ErrorList {
	sp := field.NewPath("status")
	errs := optionalEnum(pod.Status.Phase, []string{"Failed", "Pending", "Running", "Succeeded", "Unknown"}, sp.Child("phase"))
	if pod.Status.PodIP != "" {
		errs = append(errs, validateIP(pod.Status.PodIP, sp.Child("podIP"))...)
	}
	for i, ip := range pod.Status.PodIPs {
		errs = append(errs, validateIP(ip.IP, sp.Child("podIPs").Index(i).Child("ip"))...)
	}
	if len(pod.Status.PodIPs) > 0 && pod.Status.PodIP != pod.Status.PodIPs[0].IP {
		errs = append(errs, field.Invalid(sp.Child("podIPs").Index(0).Child("ip"), pod.Status.PodIPs[0].IP, "must match `podIP`"))
	}
	if pod.Status.HostIP != "" {
		errs = append(errs, validateIP(pod.Status.HostIP, sp.Child("hostIP"))...)
	}
	return errs
}
