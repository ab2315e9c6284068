package registry

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	supportedPullPolicies   = []string{"Always", "IfNotPresent", "Never"}
	supportedTermMsgPolicy  = []string{"FallbackToLogsOnError", "File"}
	supportedInitRestartPol = []string{"Always"}
)

// containerSet carries what validating one container needs to know about
// its pod: the volume names and the container names already seen.
type containerSet struct {
	volumes sets.Set[string]
	names   sets.Set[string]
}

func validateContainers(cs []corev1.Container, set containerSet, init bool, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(cs) == 0 && !init {
		errs = append(errs, field.Required(path, ""))
	}
	for i := range cs {
		errs = append(errs, validateContainer(&cs[i], set, init, path.Index(i))...)
	}
	return errs
}

func validateContainer(c *corev1.Container, set containerSet, init bool, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch {
	case c.Name == "":
		errs = append(errs, field.Required(path.Child("name"), ""))
	case set.names.Has(c.Name):
		errs = append(errs, field.Duplicate(path.Child("name"), c.Name))
	default:
		errs = append(errs, validateDNS1123Label(c.Name, path.Child("name"))...)
		set.names.Insert(c.Name)
	}
	errs = append(errs, validateImage(c.Image, path.Child("image"))...)
	errs = append(errs, validateContainerPorts(c.Ports, path.Child("ports"))...)
	errs = append(errs, validateEnv(c.Env, path.Child("env"))...)
	errs = append(errs, validateVolumeMounts(c.VolumeMounts, set.volumes, path.Child("volumeMounts"))...)
	errs = append(errs, validateResources(&c.Resources, path.Child("resources"))...)
	errs = append(errs, requiredEnum(c.ImagePullPolicy, supportedPullPolicies, path.Child("imagePullPolicy"))...)
	errs = append(errs, requiredEnum(c.TerminationMessagePolicy, supportedTermMsgPolicy, path.Child("terminationMessagePolicy"))...)
	errs = append(errs, validateContainerProbes(c, init, path)...)
	if c.RestartPolicy != nil {
		if init {
			errs = append(errs, requiredEnum(*c.RestartPolicy, supportedInitRestartPol, path.Child("restartPolicy"))...)
		} else {
			errs = append(errs, field.Forbidden(path.Child("restartPolicy"), "may not be set for non-init containers"))
		}
	}
	return errs
}

func validateImage(image string, path *field.Path) field.ErrorList {
	if image == "" {
		return field.ErrorList{field.Required(path, "")}
	}
	if image != strings.TrimSpace(image) {
		return field.ErrorList{field.Invalid(path, image, "must not have leading or trailing whitespace")}
	}
	return nil
}

func validateContainerPorts(ports []corev1.ContainerPort, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := sets.New[string]()
	for i, p := range ports {
		pp := path.Index(i)
		if p.Name != "" {
			errs = append(errs, invalidEach(pp.Child("name"), p.Name, validation.IsValidPortName(p.Name))...)
			if names.Has(p.Name) {
				errs = append(errs, field.Duplicate(pp.Child("name"), p.Name))
			}
			names.Insert(p.Name)
		}
		if p.ContainerPort == 0 {
			errs = append(errs, field.Required(pp.Child("containerPort"), ""))
		} else {
			errs = append(errs, validatePortNum(p.ContainerPort, pp.Child("containerPort"))...)
		}
		if p.HostPort != 0 {
			errs = append(errs, validatePortNum(p.HostPort, pp.Child("hostPort"))...)
		}
		errs = append(errs, requiredEnum(p.Protocol, supportedProtocols, pp.Child("protocol"))...)
	}
	return errs
}

func validateEnv(env []corev1.EnvVar, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, ev := range env {
		ep := path.Index(i)
		if ev.Name == "" {
			errs = append(errs, field.Required(ep.Child("name"), ""))
		} else {
			errs = append(errs, invalidEach(ep.Child("name"), ev.Name, validation.IsRelaxedEnvVarName(ev.Name))...)
		}
		errs = append(errs, validateEnvVarSource(ev, ep.Child("valueFrom"))...)
	}
	return errs
}

func validateEnvVarSource(ev corev1.EnvVar, path *field.Path) field.ErrorList {
	src := ev.ValueFrom
	if src == nil {
		return nil
	}
	n := 0
	for _, set := range []bool{src.FieldRef != nil, src.ResourceFieldRef != nil, src.ConfigMapKeyRef != nil, src.SecretKeyRef != nil, src.FileKeyRef != nil} {
		if set {
			n++
		}
	}
	var errs field.ErrorList
	if ev.Value != "" {
		errs = append(errs, field.Invalid(path, "", "may not be specified when `value` is not empty"))
	}
	switch {
	case n == 0:
		errs = append(errs, field.Invalid(path, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"))
	case n > 1:
		errs = append(errs, field.Invalid(path, "", "may not have more than one field specified at a time"))
	case src.FieldRef != nil && src.FieldRef.FieldPath == "":
		errs = append(errs, field.Required(path.Child("fieldRef", "fieldPath"), ""))
	case src.ConfigMapKeyRef != nil && src.ConfigMapKeyRef.Key == "":
		errs = append(errs, field.Required(path.Child("configMapKeyRef", "key"), ""))
	case src.SecretKeyRef != nil && src.SecretKeyRef.Key == "":
		errs = append(errs, field.Required(path.Child("secretKeyRef", "key"), ""))
	}
	return errs
}

func validateVolumeMounts(mounts []corev1.VolumeMount, volumes sets.Set[string], path *field.Path) field.ErrorList {
	var errs field.ErrorList
	paths := sets.New[string]()
	for i, m := range mounts {
		mp := path.Index(i)
		if m.Name == "" {
			errs = append(errs, field.Required(mp.Child("name"), ""))
		} else if volumes != nil && !volumes.Has(m.Name) {
			errs = append(errs, field.NotFound(mp.Child("name"), m.Name))
		}
		if m.MountPath == "" {
			errs = append(errs, field.Required(mp.Child("mountPath"), ""))
		} else if paths.Has(m.MountPath) {
			errs = append(errs, field.Invalid(mp.Child("mountPath"), m.MountPath, "must be unique"))
		}
		paths.Insert(m.MountPath)
	}
	return errs
}

func validateResources(r *corev1.ResourceRequirements, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	lp, rp := path.Child("limits"), path.Child("requests")
	for name, q := range r.Limits {
		errs = append(errs, validateResourceEntry(string(name), q, lp.Key(string(name)))...)
	}
	for name, q := range r.Requests {
		kp := rp.Key(string(name))
		errs = append(errs, validateResourceEntry(string(name), q, kp)...)
		if limit, ok := r.Limits[name]; ok && q.Cmp(limit) > 0 {
			errs = append(errs, field.Invalid(kp, q.String(), fmt.Sprintf("must be less than or equal to %s limit of %s", name, limit.String())))
		}
	}
	return errs
}

func validateResourceEntry(name string, q resource.Quantity, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if !isContainerResourceName(name) {
		errs = append(errs, field.Invalid(path, name, "must be a standard resource for containers"))
	}
	if q.Sign() < 0 {
		errs = append(errs, field.Invalid(path, q.String(), mustBeNonNegative))
	}
	return errs
}

// isContainerResourceName: cpu, memory, ephemeral-storage, hugepages-*, or
// a domain-prefixed extended resource.
func isContainerResourceName(name string) bool {
	switch corev1.ResourceName(name) {
	case corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage:
		return true
	}
	if strings.HasPrefix(name, corev1.ResourceHugePagesPrefix) {
		return true
	}
	return strings.Contains(name, "/") && len(validation.IsQualifiedName(name)) == 0
}
