package registry

import (
	"fmt"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

const podUpdateForbidden = "pod updates may not change fields other than `spec.containers[*].image`," +
	"`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations)," +
	"`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"

// validatePodUpdate allows, as upstream, only new images, a lower
// activeDeadlineSeconds, added tolerations, removed scheduling gates and a
// negative terminationGracePeriodSeconds turned into 1.
func validatePodUpdate(pod, old *corev1.Pod) field.ErrorList {
	spec := field.NewPath("spec")
	var errs field.ErrorList
	if len(pod.Spec.Containers) != len(old.Spec.Containers) || len(pod.Spec.InitContainers) != len(old.Spec.InitContainers) {
		return field.ErrorList{field.Forbidden(spec.Child("containers"), "pod updates may not add or remove containers")}
	}
	errs = append(errs, validateDeadlineUpdate(pod.Spec.ActiveDeadlineSeconds, old.Spec.ActiveDeadlineSeconds, spec.Child("activeDeadlineSeconds"))...)
	errs = append(errs, validateTolerationsUpdate(pod.Spec.Tolerations, old.Spec.Tolerations, spec.Child("tolerations"))...)
	errs = append(errs, validateGatesUpdate(pod.Spec.SchedulingGates, old.Spec.SchedulingGates, spec.Child("schedulingGates"))...)

	munged := mungePodSpec(&pod.Spec, &old.Spec)
	if !apiequality.Semantic.DeepEqual(*munged, old.Spec) {
		diff := cmp.Diff(old.Spec, *munged)
		errs = append(errs, field.Forbidden(spec, fmt.Sprintf("%s\n%v", podUpdateForbidden, diff)))
	}
	return errs
}

// mungePodSpec returns a copy of spec with the mutable fields taken from old,
// so that what remains must equal old.
func mungePodSpec(spec, old *corev1.PodSpec) *corev1.PodSpec {
	m := spec.DeepCopy()
	for i := range m.Containers {
		m.Containers[i].Image = old.Containers[i].Image
	}
	for i := range m.InitContainers {
		m.InitContainers[i].Image = old.InitContainers[i].Image
	}
	m.ActiveDeadlineSeconds = old.ActiveDeadlineSeconds
	m.Tolerations = old.Tolerations
	m.SchedulingGates = old.SchedulingGates
	if g, og := m.TerminationGracePeriodSeconds, old.TerminationGracePeriodSeconds; g != nil && og != nil && *og < 0 && *g == 1 {
		m.TerminationGracePeriodSeconds = og
	}
	return m
}

func validateDeadlineUpdate(v, old *int64, path *field.Path) field.ErrorList {
	switch {
	case old == nil:
		return nil
	case v == nil:
		return field.ErrorList{field.Invalid(path, v, "must not update from a positive integer to nil value")}
	case *v > *old:
		return field.ErrorList{field.Invalid(path, *v, "must be less than or equal to previous value")}
	}
	return nil
}

// validateTolerationsUpdate: every old toleration must remain, except that
// a NoExecute one may lower its tolerationSeconds.
func validateTolerationsUpdate(ts, old []corev1.Toleration, path *field.Path) field.ErrorList {
	for _, o := range old {
		if !hasToleration(ts, o) {
			return field.ErrorList{field.Forbidden(path, "existing toleration can not be modified except its tolerationSeconds")}
		}
	}
	return nil
}

func hasToleration(ts []corev1.Toleration, o corev1.Toleration) bool {
	for _, t := range ts {
		if t.Key != o.Key || t.Operator != o.Operator || t.Value != o.Value || t.Effect != o.Effect {
			continue
		}
		if o.TolerationSeconds == nil || (t.TolerationSeconds != nil && *t.TolerationSeconds <= *o.TolerationSeconds) {
			return true
		}
	}
	return false
}

func validateGatesUpdate(gates, old []corev1.PodSchedulingGate, path *field.Path) field.ErrorList {
	had := map[string]bool{}
	for _, g := range old {
		had[g.Name] = true
	}
	for i, g := range gates {
		if !had[g.Name] {
			return field.ErrorList{field.Forbidden(path.Index(i), "only deletion is allowed, but found new scheduling gate '"+g.Name+"'")}
		}
	}
	return nil
}
