package registry

import (
	"fmt"
	"net/netip"

	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Messages upstream uses in several places.
const (
	fieldImmutable    = apivalidation.FieldImmutableErrorMsg // "field is immutable"
	selectorMismatch  = "`selector` does not match template `labels`"
	mustBeNonNegative = apivalidation.IsNegativeErrorMsg
)

var supportedProtocols = []string{"SCTP", "TCP", "UDP"}

func invalidEach(path *field.Path, value any, msgs []string) field.ErrorList {
	var errs field.ErrorList
	for _, m := range msgs {
		errs = append(errs, field.Invalid(path, value, m))
	}
	return errs
}

func validateDNS1123Label(value string, path *field.Path) field.ErrorList {
	return invalidEach(path, value, validation.IsDNS1123Label(value))
}

func validateDNS1123Subdomain(value string, path *field.Path) field.ErrorList {
	return invalidEach(path, value, validation.IsDNS1123Subdomain(value))
}

func nonNegative(value int64, path *field.Path) field.ErrorList {
	return apivalidation.ValidateNonnegativeField(value, path)
}

func nonNegativePtr[N int32 | int64](value *N, path *field.Path) field.ErrorList {
	if value == nil {
		return nil
	}
	return nonNegative(int64(*value), path)
}

// requiredEnum checks a required field with a fixed set of values.
func requiredEnum[S ~string](value S, supported []string, path *field.Path) field.ErrorList {
	if value == "" {
		return field.ErrorList{field.Required(path, "")}
	}
	return optionalEnum(value, supported, path)
}

// optionalEnum checks a field with a fixed set of values, "" allowed.
func optionalEnum[S ~string](value S, supported []string, path *field.Path) field.ErrorList {
	if value == "" {
		return nil
	}
	for _, s := range supported {
		if string(value) == s {
			return nil
		}
	}
	return field.ErrorList{field.NotSupported(path, value, supported)}
}

func validatePortNumOrName(port intstr.IntOrString, path *field.Path) field.ErrorList {
	switch port.Type {
	case intstr.Int:
		return invalidEach(path, port.IntValue(), validation.IsValidPortNum(port.IntValue()))
	case intstr.String:
		return invalidEach(path, port.StrVal, validation.IsValidPortName(port.StrVal))
	}
	return field.ErrorList{field.InternalError(path, fmt.Errorf("unknown type: %v", port.Type))}
}

func validatePortNum(port int32, path *field.Path) field.ErrorList {
	return invalidEach(path, port, validation.IsValidPortNum(int(port)))
}

// validateStrictSelector checks a label selector whose values must be
// valid label values (workload selectors).
func validateStrictSelector(sel *metav1.LabelSelector, path *field.Path) field.ErrorList {
	opts := metav1validation.LabelSelectorValidationOptions{AllowInvalidLabelValueInSelector: false}
	return metav1validation.ValidateLabelSelector(sel, opts, path)
}

func validateLabels(labels map[string]string, path *field.Path) field.ErrorList {
	return metav1validation.ValidateLabels(labels, path)
}

func immutable(newVal, oldVal any, path *field.Path) field.ErrorList {
	return apivalidation.ValidateImmutableField(newVal, oldVal, path)
}

// validateIP checks an IP address as upstream does for new values.
func validateIP(value string, path *field.Path) field.ErrorList {
	return validation.IsValidIP(path, value)
}

// validateCIDR checks a CIDR as upstream does for new values.
func validateCIDR(value string, path *field.Path) field.ErrorList {
	return validation.IsValidCIDR(path, value)
}

// isIPv4 and isIPv6 tell the family of a valid IP literal.
func isIPv4(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is4()
}

func isIPv6(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is6() && !a.Is4In6()
}

func labelValueErrors(v string) []string { return validation.IsValidLabelValue(v) }
