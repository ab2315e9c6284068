package registry

import (
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// daemonSetTemplateGeneration is the annotation apps/v1 DaemonSets carry
// for the internal spec.templateGeneration; the DaemonSet controller labels
// pods with it.
const daemonSetTemplateGeneration = "deprecated.daemonset.template.generation"

func deploymentStrategy() Strategy {
	return kind[*appsv1.Deployment]{
		namespaced: true,
		name:       apivalidation.NameIsDNSSubdomain,
		status:     true,
		generation: true,
		// Annotations are copied to the ReplicaSets, so they bump the
		// generation too, as upstream.
		spec: func(d *appsv1.Deployment) any {
			return struct {
				Spec        appsv1.DeploymentSpec
				Annotations map[string]string
			}{d.Spec, d.Annotations}
		},
		defaults: defaultDeployment,
		validate: validateDeployment,
		validateUpdate: func(d, old *appsv1.Deployment) field.ErrorList {
			return validateSelectorUpdate(d.Spec.Selector, old.Spec.Selector)
		},
		validateStatus: func(d, _ *appsv1.Deployment) field.ErrorList {
			return validateReplicaCounts(d.Status.Replicas, d.Status.ReadyReplicas, d.Status.AvailableReplicas, d.Status.ObservedGeneration)
		},
	}
}

func replicaSetStrategy() Strategy {
	return kind[*appsv1.ReplicaSet]{
		namespaced: true,
		name:       apivalidation.NameIsDNSSubdomain,
		status:     true,
		generation: true,
		defaults:   defaultReplicaSet,
		validate:   validateReplicaSet,
		validateUpdate: func(rs, old *appsv1.ReplicaSet) field.ErrorList {
			return validateSelectorUpdate(rs.Spec.Selector, old.Spec.Selector)
		},
		validateStatus: func(rs, _ *appsv1.ReplicaSet) field.ErrorList {
			return validateReplicaCounts(rs.Status.Replicas, rs.Status.ReadyReplicas, rs.Status.AvailableReplicas, rs.Status.ObservedGeneration)
		},
	}
}

func daemonSetStrategy() Strategy {
	return kind[*appsv1.DaemonSet]{
		namespaced: true,
		name:       apivalidation.NameIsDNSSubdomain,
		status:     true,
		generation: true,
		defaults:   defaultDaemonSet,
		create: func(ds *appsv1.DaemonSet) {
			setAnnotation(&ds.ObjectMeta.Annotations, daemonSetTemplateGeneration, "1")
		},
		update:   bumpDaemonSetTemplateGeneration,
		validate: validateDaemonSet,
		validateUpdate: func(ds, old *appsv1.DaemonSet) field.ErrorList {
			return validateSelectorUpdate(ds.Spec.Selector, old.Spec.Selector)
		},
	}
}

// bumpDaemonSetTemplateGeneration keeps the template generation annotation
// from old, one higher when the template changed.
func bumpDaemonSetTemplateGeneration(ds, old *appsv1.DaemonSet) {
	gen, _ := strconv.ParseInt(old.Annotations[daemonSetTemplateGeneration], 10, 64)
	if !apiequality.Semantic.DeepEqual(ds.Spec.Template, old.Spec.Template) {
		gen++
	}
	if gen > 0 {
		setAnnotation(&ds.ObjectMeta.Annotations, daemonSetTemplateGeneration, strconv.FormatInt(gen, 10))
	}
}

func statefulSetStrategy() Strategy {
	return kind[*appsv1.StatefulSet]{
		namespaced:     true,
		name:           apivalidation.NameIsDNSLabel,
		status:         true,
		generation:     true,
		defaults:       defaultStatefulSet,
		validate:       validateStatefulSet,
		validateUpdate: validateStatefulSetUpdate,
		validateStatus: func(ss, _ *appsv1.StatefulSet) field.ErrorList {
			return validateReplicaCounts(ss.Status.Replicas, ss.Status.ReadyReplicas, ss.Status.AvailableReplicas, ss.Status.ObservedGeneration)
		},
	}
}

// validateReplicaCounts is the common part of workload status validation.
func validateReplicaCounts(replicas, ready, available int32, observedGeneration int64) field.ErrorList {
	sp := field.NewPath("status")
	errs := nonNegative(int64(replicas), sp.Child("replicas"))
	errs = append(errs, nonNegative(int64(ready), sp.Child("readyReplicas"))...)
	errs = append(errs, nonNegative(int64(available), sp.Child("availableReplicas"))...)
	errs = append(errs, nonNegative(observedGeneration, sp.Child("observedGeneration"))...)
	if ready > replicas {
		errs = append(errs, field.Invalid(sp.Child("readyReplicas"), ready, "cannot be greater than status.replicas"))
	}
	if available > replicas {
		errs = append(errs, field.Invalid(sp.Child("availableReplicas"), available, "cannot be greater than status.replicas"))
	}
	return errs
}

func setAnnotation(annotations *map[string]string, key, value string) {
	if *annotations == nil {
		*annotations = map[string]string{}
	}
	(*annotations)[key] = value
}
