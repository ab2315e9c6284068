package registry

import (
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The validation of rbac.authorization.k8s.io/v1, after upstream's
// pkg/apis/rbac/validation. Authorization itself is not enforced by rudder
// (yet): these objects are stored, listed and watched, nothing more.

var (
	rulesPath   = field.NewPath("rules")
	roleRefPath = field.NewPath("roleRef")
)

// rbacName checks the name of a role or binding (and roleRef.name) as
// upstream's ValidateRBACName does: any valid path segment, so
// "system:controller:foo" is fine. The prefix flag is ignored, as upstream
// ignores it.
func rbacName(name string, _ bool) []string { return path.IsValidPathSegmentName(name) }

func validateRole(r *rbacv1.Role) field.ErrorList {
	return validatePolicyRules(r.Rules, true)
}

// validateClusterRole checks the rules and the aggregationRule. The label
// selectors are checked strictly: upstream relaxes label values on update
// only for objects stored before the check existed, and every ClusterRole
// rudder stores went through it.
func validateClusterRole(r *rbacv1.ClusterRole) field.ErrorList {
	errs := validatePolicyRules(r.Rules, false)
	if r.AggregationRule != nil {
		errs = append(errs, validateAggregationRule(r.AggregationRule)...)
	}
	return errs
}

func validateAggregationRule(rule *rbacv1.AggregationRule) field.ErrorList {
	sp := field.NewPath("aggregationRule", "clusterRoleSelectors")
	if len(rule.ClusterRoleSelectors) == 0 {
		return field.ErrorList{field.Required(sp, "at least one clusterRoleSelector required if aggregationRule is non-nil")}
	}
	var errs field.ErrorList
	for i := range rule.ClusterRoleSelectors {
		sel := &rule.ClusterRoleSelectors[i]
		errs = append(errs, validateStrictSelector(sel, sp.Index(i))...)
		if _, err := metav1.LabelSelectorAsSelector(sel); err != nil {
			errs = append(errs, field.Invalid(sp.Index(i), sel, "invalid label selector."))
		}
	}
	return errs
}

func validatePolicyRules(rules []rbacv1.PolicyRule, namespaced bool) field.ErrorList {
	var errs field.ErrorList
	for i, r := range rules {
		errs = append(errs, validatePolicyRule(r, namespaced, rulesPath.Index(i))...)
	}
	return errs
}

// validatePolicyRule: verbs are required; a rule is either about
// non-resource URLs (cluster roles only) or about resources, which then
// need API groups and resources.
func validatePolicyRule(rule rbacv1.PolicyRule, namespaced bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(rule.Verbs) == 0 {
		errs = append(errs, field.Required(p.Child("verbs"), "verbs must contain at least one value"))
	}
	if len(rule.NonResourceURLs) > 0 {
		up := p.Child("nonResourceURLs")
		if namespaced {
			errs = append(errs, field.Invalid(up, rule.NonResourceURLs, "namespaced rules cannot apply to non-resource URLs"))
		}
		if len(rule.APIGroups) > 0 || len(rule.Resources) > 0 || len(rule.ResourceNames) > 0 {
			errs = append(errs, field.Invalid(up, rule.NonResourceURLs, "rules cannot apply to both regular resources and non-resource URLs"))
		}
		return errs
	}
	if len(rule.APIGroups) == 0 {
		errs = append(errs, field.Required(p.Child("apiGroups"), "resource rules must supply at least one api group"))
	}
	if len(rule.Resources) == 0 {
		errs = append(errs, field.Required(p.Child("resources"), "resource rules must supply at least one resource"))
	}
	return errs
}

// validateRoleBinding: a RoleBinding may refer to a Role or a ClusterRole;
// its ServiceAccount subjects may leave the namespace empty (the binding's
// own is meant).
func validateRoleBinding(b *rbacv1.RoleBinding) field.ErrorList {
	errs := validateRoleRef(b.RoleRef, []string{"Role", "ClusterRole"})
	return append(errs, validateSubjects(b.Subjects, true)...)
}

// validateClusterRoleBinding: a ClusterRoleBinding refers to a ClusterRole
// and its ServiceAccount subjects need a namespace.
func validateClusterRoleBinding(b *rbacv1.ClusterRoleBinding) field.ErrorList {
	errs := validateRoleRef(b.RoleRef, []string{"ClusterRole"})
	return append(errs, validateSubjects(b.Subjects, false)...)
}

func validateRoleRef(ref rbacv1.RoleRef, kinds []string) field.ErrorList {
	var errs field.ErrorList
	if ref.APIGroup != rbacv1.GroupName {
		errs = append(errs, field.NotSupported(roleRefPath.Child("apiGroup"), ref.APIGroup, []string{rbacv1.GroupName}))
	}
	if !slices.Contains(kinds, ref.Kind) {
		errs = append(errs, field.NotSupported(roleRefPath.Child("kind"), ref.Kind, kinds))
	}
	np := roleRefPath.Child("name")
	if ref.Name == "" {
		return append(errs, field.Required(np, ""))
	}
	return append(errs, invalidEach(np, ref.Name, rbacName(ref.Name, false))...)
}

func validateSubjects(subjects []rbacv1.Subject, namespaced bool) field.ErrorList {
	var errs field.ErrorList
	for i, s := range subjects {
		errs = append(errs, validateSubject(s, namespaced, field.NewPath("subjects").Index(i))...)
	}
	return errs
}

// validateSubject: ServiceAccount subjects are in the core group ("") and
// have a DNS-subdomain name; User and Group subjects are in
// rbac.authorization.k8s.io (which defaulting sets when empty).
func validateSubject(s rbacv1.Subject, namespaced bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s.Name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	}
	switch s.Kind {
	case rbacv1.ServiceAccountKind:
		if s.Name != "" {
			errs = append(errs, invalidEach(p.Child("name"), s.Name, apivalidation.ValidateServiceAccountName(s.Name, false))...)
		}
		if s.APIGroup != "" {
			errs = append(errs, field.NotSupported(p.Child("apiGroup"), s.APIGroup, []string{""}))
		}
		if !namespaced && s.Namespace == "" {
			errs = append(errs, field.Required(p.Child("namespace"), ""))
		}
	case rbacv1.UserKind, rbacv1.GroupKind:
		if s.APIGroup != rbacv1.GroupName {
			errs = append(errs, field.NotSupported(p.Child("apiGroup"), s.APIGroup, []string{rbacv1.GroupName}))
		}
	default:
		errs = append(errs, field.NotSupported(p.Child("kind"), s.Kind,
			[]string{rbacv1.ServiceAccountKind, rbacv1.UserKind, rbacv1.GroupKind}))
	}
	return errs
}

// roleRefImmutable: a binding cannot be pointed at another role; upstream
// reports the whole roleRef.
func roleRefImmutable(ref, old rbacv1.RoleRef) field.ErrorList {
	if ref == old {
		return nil
	}
	return field.ErrorList{field.Invalid(roleRefPath, ref, "cannot change roleRef")}
}
