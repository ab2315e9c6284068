package registry

import (
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// workload is what Deployments, ReplicaSets, DaemonSets and StatefulSets
// share: a required selector that must match the pod template's labels,
// and a template whose pods restart Always.
type workload struct {
	kind         string // as in "empty selector is invalid for deployment"
	owner        string // as in "activeDeadlineSeconds in ReplicaSet is not Supported"
	selector     *metav1.LabelSelector
	template     *corev1.PodTemplateSpec
	extraVolumes []string
}

func validateWorkload(w workload) field.ErrorList {
	var errs field.ErrorList
	sp, tp := specPath.Child("selector"), specPath.Child("template")
	if w.selector == nil {
		errs = append(errs, field.Required(sp, ""))
	} else {
		errs = append(errs, validateWorkloadSelector(w, sp, tp)...)
	}
	errs = append(errs, validatePodTemplate(w.template, w.extraVolumes, tp)...)
	if rp := w.template.Spec.RestartPolicy; rp != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(tp.Child("spec", "restartPolicy"), rp, []string{string(corev1.RestartPolicyAlways)}))
	}
	if w.template.Spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Forbidden(tp.Child("spec", "activeDeadlineSeconds"), "activeDeadlineSeconds in "+w.owner+" is not Supported"))
	}
	return errs
}

// validateWorkloadSelector: a valid, non-empty selector matching the
// template's labels.
func validateWorkloadSelector(w workload, sp, tp *field.Path) field.ErrorList {
	errs := validateStrictSelector(w.selector, sp)
	if len(w.selector.MatchLabels)+len(w.selector.MatchExpressions) == 0 {
		errs = append(errs, field.Invalid(sp, w.selector, "empty selector is invalid for "+w.kind))
	}
	sel, err := metav1.LabelSelectorAsSelector(w.selector)
	switch {
	case err != nil:
		errs = append(errs, field.Invalid(sp, w.selector, "invalid label selector"))
	case !sel.Empty() && !sel.Matches(labels.Set(w.template.Labels)):
		errs = append(errs, field.Invalid(tp.Child("metadata", "labels"), w.template.Labels, selectorMismatch))
	}
	return errs
}

func validateDeployment(d *appsv1.Deployment) field.ErrorList {
	spec := &d.Spec
	errs := nonNegativePtr(spec.Replicas, specPath.Child("replicas"))
	errs = append(errs, validateWorkload(workload{kind: "deployment", owner: "ReplicaSet", selector: spec.Selector, template: &spec.Template})...)
	errs = append(errs, validateDeploymentStrategy(&spec.Strategy, specPath.Child("strategy"))...)
	errs = append(errs, nonNegative(int64(spec.MinReadySeconds), specPath.Child("minReadySeconds"))...)
	errs = append(errs, nonNegativePtr(spec.RevisionHistoryLimit, specPath.Child("revisionHistoryLimit"))...)
	if pds := spec.ProgressDeadlineSeconds; pds != nil {
		errs = append(errs, nonNegative(int64(*pds), specPath.Child("progressDeadlineSeconds"))...)
		if *pds <= spec.MinReadySeconds {
			errs = append(errs, field.Invalid(specPath.Child("progressDeadlineSeconds"), *pds, "must be greater than minReadySeconds"))
		}
	}
	return errs
}

func validateDeploymentStrategy(s *appsv1.DeploymentStrategy, path *field.Path) field.ErrorList {
	switch s.Type {
	case appsv1.RecreateDeploymentStrategyType:
		if s.RollingUpdate != nil {
			return field.ErrorList{field.Forbidden(path.Child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'")}
		}
	case appsv1.RollingUpdateDeploymentStrategyType:
		if s.RollingUpdate == nil {
			return field.ErrorList{field.Required(path.Child("rollingUpdate"), "this should be defaulted and never be nil")}
		}
		return validateRollingUpdate(s.RollingUpdate.MaxUnavailable, s.RollingUpdate.MaxSurge, path.Child("rollingUpdate"))
	default:
		return field.ErrorList{field.NotSupported(path.Child("type"), s.Type, []string{"Recreate", "RollingUpdate"})}
	}
	return nil
}

func validateRollingUpdate(maxUnavailable, maxSurge *intstr.IntOrString, path *field.Path) field.ErrorList {
	mu, ms := derefIntOrString(maxUnavailable), derefIntOrString(maxSurge)
	errs := validateIntOrPercent(mu, path.Child("maxUnavailable"))
	errs = append(errs, validateIntOrPercent(ms, path.Child("maxSurge"))...)
	if intOrPercentValue(mu) == 0 && intOrPercentValue(ms) == 0 {
		errs = append(errs, field.Invalid(path.Child("maxUnavailable"), mu, "may not be 0 when `maxSurge` is 0"))
	}
	return append(errs, notOver100Percent(mu, path.Child("maxUnavailable"))...)
}

func derefIntOrString(v *intstr.IntOrString) intstr.IntOrString {
	if v == nil {
		return intstr.FromInt32(0)
	}
	return *v
}

func validateIntOrPercent(v intstr.IntOrString, path *field.Path) field.ErrorList {
	if v.Type == intstr.String {
		return invalidEach(path, v, validation.IsValidPercent(v.StrVal))
	}
	return nonNegative(int64(v.IntValue()), path)
}

// intOrPercentValue is the number of an int or of a valid percentage.
func intOrPercentValue(v intstr.IntOrString) int {
	if v.Type != intstr.String {
		return v.IntValue()
	}
	n, _ := strconv.Atoi(strings.TrimSuffix(v.StrVal, "%"))
	return n
}

func notOver100Percent(v intstr.IntOrString, path *field.Path) field.ErrorList {
	if v.Type == intstr.String && len(validation.IsValidPercent(v.StrVal)) == 0 && intOrPercentValue(v) > 100 {
		return field.ErrorList{field.Invalid(path, v, "must not be greater than 100%")}
	}
	return nil
}

func validateReplicaSet(rs *appsv1.ReplicaSet) field.ErrorList {
	spec := &rs.Spec
	errs := nonNegativePtr(spec.Replicas, specPath.Child("replicas"))
	errs = append(errs, nonNegative(int64(spec.MinReadySeconds), specPath.Child("minReadySeconds"))...)
	return append(errs, validateWorkload(workload{kind: "deployment", owner: "ReplicaSet", selector: spec.Selector, template: &spec.Template})...)
}

func validateDaemonSet(ds *appsv1.DaemonSet) field.ErrorList {
	spec := &ds.Spec
	errs := validateWorkload(workload{kind: "daemonset", owner: "DaemonSet", selector: spec.Selector, template: &spec.Template})
	errs = append(errs, nonNegative(int64(spec.MinReadySeconds), specPath.Child("minReadySeconds"))...)
	errs = append(errs, nonNegativePtr(spec.RevisionHistoryLimit, specPath.Child("revisionHistoryLimit"))...)
	return append(errs, validateDaemonSetStrategy(&spec.UpdateStrategy, specPath.Child("updateStrategy"))...)
}

func validateDaemonSetStrategy(s *appsv1.DaemonSetUpdateStrategy, path *field.Path) field.ErrorList {
	switch s.Type {
	case appsv1.OnDeleteDaemonSetStrategyType:
		return nil
	case appsv1.RollingUpdateDaemonSetStrategyType:
		if s.RollingUpdate == nil {
			return field.ErrorList{field.Required(path.Child("rollingUpdate"), "")}
		}
	default:
		return field.ErrorList{field.NotSupported(path, s.Type, []string{"OnDelete", "RollingUpdate"})}
	}
	rp := path.Child("rollingUpdate")
	mu, ms := derefIntOrString(s.RollingUpdate.MaxUnavailable), derefIntOrString(s.RollingUpdate.MaxSurge)
	errs := validateIntOrPercent(mu, rp.Child("maxUnavailable"))
	errs = append(errs, validateIntOrPercent(ms, rp.Child("maxSurge"))...)
	errs = append(errs, notOver100Percent(mu, rp.Child("maxUnavailable"))...)
	errs = append(errs, notOver100Percent(ms, rp.Child("maxSurge"))...)
	switch hasU, hasS := intOrPercentValue(mu) != 0, intOrPercentValue(ms) != 0; {
	case hasU && hasS:
		errs = append(errs, field.Invalid(rp.Child("maxSurge"), ms, "may not be set when maxUnavailable is non-zero"))
	case !hasU && !hasS:
		errs = append(errs, field.Required(rp.Child("maxUnavailable"), "cannot be 0 when maxSurge is 0"))
	}
	return errs
}

// validateSelectorUpdate: apps/v1 selectors are immutable.
func validateSelectorUpdate(sel, old *metav1.LabelSelector) field.ErrorList {
	return immutable(sel, old, specPath.Child("selector"))
}
