package registry

import (
	"reflect"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

const modeRangeMsg = "must be a number between 0 and 0777 (octal), both inclusive"

// validateVolumes checks the pod's volumes and returns their names.
func validateVolumes(vols []corev1.Volume, path *field.Path) (sets.Set[string], field.ErrorList) {
	var errs field.ErrorList
	names := sets.New[string]()
	for i := range vols {
		v := &vols[i]
		vp := path.Index(i)
		switch {
		case v.Name == "":
			errs = append(errs, field.Required(vp.Child("name"), ""))
		case names.Has(v.Name):
			errs = append(errs, field.Duplicate(vp.Child("name"), v.Name))
		default:
			errs = append(errs, validateDNS1123Label(v.Name, vp.Child("name"))...)
		}
		names.Insert(v.Name)
		errs = append(errs, validateVolumeSource(&v.VolumeSource, vp)...)
	}
	return names, errs
}

// validateVolumeSource: exactly one source, and the fields that matter to
// the kubelet for the sources it supports.
func validateVolumeSource(src *corev1.VolumeSource, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch n := setPointerFields(src); {
	case n == 0:
		return field.ErrorList{field.Required(path, "must specify a volume type")}
	case n > 1:
		errs = append(errs, field.Forbidden(path, "may not specify more than 1 volume type"))
	}
	if s := src.ConfigMap; s != nil {
		if s.Name == "" {
			errs = append(errs, field.Required(path.Child("configMap", "name"), ""))
		}
		errs = append(errs, validateMode(s.DefaultMode, path.Child("configMap", "defaultMode"))...)
		errs = append(errs, validateKeyToPaths(s.Items, path.Child("configMap", "items"))...)
	}
	if s := src.Secret; s != nil {
		if s.SecretName == "" {
			errs = append(errs, field.Required(path.Child("secret", "secretName"), ""))
		}
		errs = append(errs, validateMode(s.DefaultMode, path.Child("secret", "defaultMode"))...)
		errs = append(errs, validateKeyToPaths(s.Items, path.Child("secret", "items"))...)
	}
	if s := src.HostPath; s != nil && s.Path == "" {
		errs = append(errs, field.Required(path.Child("hostPath", "path"), ""))
	}
	if s := src.EmptyDir; s != nil && s.SizeLimit != nil && s.SizeLimit.Sign() < 0 {
		errs = append(errs, field.Invalid(path.Child("emptyDir", "sizeLimit"), s.SizeLimit.String(), mustBeNonNegative))
	}
	if s := src.Projected; s != nil {
		errs = append(errs, validateMode(s.DefaultMode, path.Child("projected", "defaultMode"))...)
	}
	if s := src.PersistentVolumeClaim; s != nil && s.ClaimName == "" {
		errs = append(errs, field.Required(path.Child("persistentVolumeClaim", "claimName"), ""))
	}
	return errs
}

// setPointerFields counts the non-nil pointer fields of a volume source.
func setPointerFields(src *corev1.VolumeSource) int {
	v := reflect.ValueOf(src).Elem()
	n := 0
	for i := 0; i < v.NumField(); i++ {
		if f := v.Field(i); f.Kind() == reflect.Pointer && !f.IsNil() {
			n++
		}
	}
	return n
}

func validateMode(mode *int32, path *field.Path) field.ErrorList {
	if mode != nil && (*mode < 0 || *mode > 0o777) {
		return field.ErrorList{field.Invalid(path, *mode, modeRangeMsg)}
	}
	return nil
}

func validateKeyToPaths(items []corev1.KeyToPath, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, it := range items {
		ip := path.Index(i)
		if it.Key == "" {
			errs = append(errs, field.Required(ip.Child("key"), ""))
		}
		if it.Path == "" {
			errs = append(errs, field.Required(ip.Child("path"), ""))
		}
		errs = append(errs, validateMode(it.Mode, ip.Child("mode"))...)
	}
	return errs
}
