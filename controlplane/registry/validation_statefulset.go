package registry

import (
	appsv1 "k8s.io/api/apps/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

const statefulSetUpdateForbidden = "updates to statefulset spec for fields other than 'replicas', 'ordinals', " +
	"'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"

var supportedRetentionPolicies = []string{"Delete", "Retain"}

func validateStatefulSet(ss *appsv1.StatefulSet) field.ErrorList {
	spec := &ss.Spec
	errs := requiredEnum(spec.PodManagementPolicy, []string{"OrderedReady", "Parallel"}, specPath.Child("podManagementPolicy"))
	errs = append(errs, validateStatefulSetStrategy(&spec.UpdateStrategy, specPath.Child("updateStrategy"))...)
	if p := spec.PersistentVolumeClaimRetentionPolicy; p != nil {
		pp := specPath.Child("persistentVolumeClaimRetentionPolicy")
		errs = append(errs, requiredEnum(p.WhenDeleted, supportedRetentionPolicies, pp.Child("whenDeleted"))...)
		errs = append(errs, requiredEnum(p.WhenScaled, supportedRetentionPolicies, pp.Child("whenScaled"))...)
	}
	errs = append(errs, nonNegativePtr(spec.Replicas, specPath.Child("replicas"))...)
	errs = append(errs, nonNegative(int64(spec.MinReadySeconds), specPath.Child("minReadySeconds"))...)
	errs = append(errs, nonNegativePtr(spec.RevisionHistoryLimit, specPath.Child("revisionHistoryLimit"))...)
	if spec.Ordinals != nil {
		errs = append(errs, nonNegative(int64(spec.Ordinals.Start), specPath.Child("ordinals", "start"))...)
	}
	var claims []string
	for i, c := range spec.VolumeClaimTemplates {
		errs = append(errs, validateDNS1123Subdomain(c.Name, specPath.Child("volumeClaimTemplates").Index(i).Child("metadata", "name"))...)
		claims = append(claims, c.Name)
	}
	if spec.ServiceName != "" {
		errs = append(errs, validateDNS1123Label(spec.ServiceName, specPath.Child("serviceName"))...)
	}
	w := workload{kind: "statefulset", owner: "StatefulSet", selector: spec.Selector, template: &spec.Template, extraVolumes: claims}
	return append(errs, validateWorkload(w)...)
}

func validateStatefulSetStrategy(s *appsv1.StatefulSetUpdateStrategy, path *field.Path) field.ErrorList {
	switch s.Type {
	case "":
		return field.ErrorList{field.Required(path, "")}
	case appsv1.OnDeleteStatefulSetStrategyType:
		if s.RollingUpdate != nil {
			return field.ErrorList{field.Invalid(path.Child("rollingUpdate"), s.RollingUpdate, "only allowed for updateStrategy 'RollingUpdate'")}
		}
	case appsv1.RollingUpdateStatefulSetStrategyType:
		if ru := s.RollingUpdate; ru != nil {
			rp := path.Child("rollingUpdate")
			errs := nonNegativePtr(ru.Partition, rp.Child("partition"))
			if ru.MaxUnavailable != nil {
				errs = append(errs, validateIntOrPercent(*ru.MaxUnavailable, rp.Child("maxUnavailable"))...)
				if intOrPercentValue(*ru.MaxUnavailable) == 0 {
					errs = append(errs, field.Invalid(rp.Child("maxUnavailable"), *ru.MaxUnavailable, "cannot be 0"))
				}
				errs = append(errs, notOver100Percent(*ru.MaxUnavailable, rp.Child("maxUnavailable"))...)
			}
			return errs
		}
	default:
		return field.ErrorList{field.Invalid(path, s, "must be 'RollingUpdate' or 'OnDelete'")}
	}
	return nil
}

// validateStatefulSetUpdate: only replicas, ordinals, template,
// updateStrategy, revisionHistoryLimit, the PVC retention policy and
// minReadySeconds may change.
func validateStatefulSetUpdate(ss, old *appsv1.StatefulSet) field.ErrorList {
	c := ss.Spec.DeepCopy()
	c.Replicas = old.Spec.Replicas
	c.Ordinals = old.Spec.Ordinals
	c.Template = old.Spec.Template
	c.UpdateStrategy = old.Spec.UpdateStrategy
	c.RevisionHistoryLimit = old.Spec.RevisionHistoryLimit
	c.PersistentVolumeClaimRetentionPolicy = old.Spec.PersistentVolumeClaimRetentionPolicy
	c.MinReadySeconds = old.Spec.MinReadySeconds
	if !apiequality.Semantic.DeepEqual(*c, old.Spec) {
		return field.ErrorList{field.Forbidden(specPath, statefulSetUpdateForbidden)}
	}
	return nil
}
