package registry

import (
	"fmt"
	"math"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	supportedRestartPolicies = []string{"Always", "Never", "OnFailure"}
	supportedDNSPolicies     = []string{"ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"}
	supportedTaintEffects    = []string{"NoExecute", "NoSchedule", "PreferNoSchedule"}
	supportedTolerationOps   = []string{"Equal", "Exists"}
)

func validatePod(pod *corev1.Pod) field.ErrorList {
	return validatePodSpec(&pod.Spec, nil, field.NewPath("spec"))
}

// validatePodTemplate checks a workload's pod template; extraVolumes are
// names that mounts may use besides the pod's volumes (a StatefulSet's
// volumeClaimTemplates).
func validatePodTemplate(t *corev1.PodTemplateSpec, extraVolumes []string, path *field.Path) field.ErrorList {
	mp := path.Child("metadata")
	errs := validateLabels(t.Labels, mp.Child("labels"))
	errs = append(errs, apivalidation.ValidateAnnotations(t.Annotations, mp.Child("annotations"))...)
	return append(errs, validatePodSpec(&t.Spec, extraVolumes, path.Child("spec"))...)
}

func validatePodSpec(spec *corev1.PodSpec, extraVolumes []string, path *field.Path) field.ErrorList {
	volumes, errs := validateVolumes(spec.Volumes, path.Child("volumes"))
	volumes.Insert(extraVolumes...)
	set := containerSet{volumes: volumes, names: sets.New[string]()}
	errs = append(errs, validateContainers(spec.Containers, set, false, path.Child("containers"))...)
	errs = append(errs, validateContainers(spec.InitContainers, set, true, path.Child("initContainers"))...)
	errs = append(errs, requiredEnum(spec.RestartPolicy, supportedRestartPolicies, path.Child("restartPolicy"))...)
	errs = append(errs, validateDNS(spec, path)...)
	errs = append(errs, validateLabels(spec.NodeSelector, path.Child("nodeSelector"))...)
	errs = append(errs, validateTolerations(spec.Tolerations, path.Child("tolerations"))...)
	errs = append(errs, validatePodNames(spec, path)...)
	if spec.ActiveDeadlineSeconds != nil && (*spec.ActiveDeadlineSeconds < 1 || *spec.ActiveDeadlineSeconds > math.MaxInt32) {
		errs = append(errs, field.Invalid(path.Child("activeDeadlineSeconds"), *spec.ActiveDeadlineSeconds,
			fmt.Sprintf("must be between 1 and %d, inclusive", math.MaxInt32)))
	}
	if spec.HostNetwork {
		errs = append(errs, validateHostNetworkPorts(spec.Containers, path.Child("containers"))...)
	}
	return errs
}

func validatePodNames(spec *corev1.PodSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, f := range []struct {
		value string
		name  string
		label bool
	}{
		{spec.ServiceAccountName, "serviceAccountName", false},
		{spec.NodeName, "nodeName", false},
		{spec.PriorityClassName, "priorityClassName", false},
		{spec.SchedulerName, "schedulerName", false},
		{spec.Hostname, "hostname", true},
		{spec.Subdomain, "subdomain", true},
	} {
		switch {
		case f.value == "":
		case f.label:
			errs = append(errs, validateDNS1123Label(f.value, path.Child(f.name))...)
		default:
			errs = append(errs, validateDNS1123Subdomain(f.value, path.Child(f.name))...)
		}
	}
	return errs
}

func validateDNS(spec *corev1.PodSpec, path *field.Path) field.ErrorList {
	errs := requiredEnum(spec.DNSPolicy, supportedDNSPolicies, path.Child("dnsPolicy"))
	if spec.DNSPolicy == corev1.DNSNone && spec.DNSConfig == nil {
		errs = append(errs, field.Required(path.Child("dnsConfig"), "must provide `dnsConfig` when `dnsPolicy` is None"))
	}
	if c := spec.DNSConfig; c != nil {
		cp := path.Child("dnsConfig")
		if len(c.Nameservers) > 3 {
			errs = append(errs, field.Invalid(cp.Child("nameservers"), c.Nameservers, "must not have more than 3 nameservers"))
		}
		for i, ns := range c.Nameservers {
			errs = append(errs, validateIP(ns, cp.Child("nameservers").Index(i))...)
		}
		if spec.DNSPolicy == corev1.DNSNone && len(c.Nameservers) == 0 {
			errs = append(errs, field.Required(cp.Child("nameservers"), "must provide at least one DNS nameserver when `dnsPolicy` is None"))
		}
	}
	return errs
}

// validateHostNetworkPorts: under hostNetwork a port's hostPort is its
// containerPort. A Pod has hostPort defaulted to containerPort; a
// workload's pod template does not (upstream stopped defaulting it), so
// 0 is accepted, as upstream does.
func validateHostNetworkPorts(cs []corev1.Container, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i := range cs {
		for j, p := range cs[i].Ports {
			if p.HostPort != 0 && p.HostPort != p.ContainerPort {
				errs = append(errs, field.Invalid(path.Index(i).Child("ports").Index(j).Child("containerPort"),
					p.ContainerPort, "must match `hostPort` when `hostNetwork` is true"))
			}
		}
	}
	return errs
}

func validateTolerations(ts []corev1.Toleration, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, t := range ts {
		tp := path.Index(i)
		if t.Key != "" {
			errs = append(errs, metav1validation.ValidateLabelName(t.Key, tp.Child("key"))...)
		} else if t.Operator != corev1.TolerationOpExists {
			errs = append(errs, field.Invalid(tp.Child("operator"), t.Operator,
				"operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
		}
		if t.TolerationSeconds != nil && t.Effect != corev1.TaintEffectNoExecute {
			errs = append(errs, field.Invalid(tp.Child("effect"), t.Effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"))
		}
		switch t.Operator {
		case corev1.TolerationOpEqual, "":
			errs = append(errs, invalidEach(tp.Child("value"), t.Value, labelValueErrors(t.Value))...)
		case corev1.TolerationOpExists:
			if t.Value != "" {
				errs = append(errs, field.Invalid(tp.Child("operator"), t.Value, "value must be empty when `operator` is 'Exists'"))
			}
		default:
			errs = append(errs, field.NotSupported(tp.Child("operator"), t.Operator, supportedTolerationOps))
		}
		errs = append(errs, optionalEnum(t.Effect, supportedTaintEffects, tp.Child("effect"))...)
	}
	return errs
}
