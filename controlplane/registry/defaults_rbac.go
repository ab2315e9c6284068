package registry

import rbacv1 "k8s.io/api/rbac/v1"

// defaultRoleBinding: roleRef.apiGroup rbac.authorization.k8s.io, and the
// subjects' apiGroups as defaultSubjects sets them (upstream's
// SetDefaults_RoleBinding and SetDefaults_Subject).
func defaultRoleBinding(b *rbacv1.RoleBinding) {
	defaultRoleRef(&b.RoleRef)
	defaultSubjects(b.Subjects)
}

// defaultClusterRoleBinding: as defaultRoleBinding.
func defaultClusterRoleBinding(b *rbacv1.ClusterRoleBinding) {
	defaultRoleRef(&b.RoleRef)
	defaultSubjects(b.Subjects)
}

func defaultRoleRef(ref *rbacv1.RoleRef) {
	if ref.APIGroup == "" {
		ref.APIGroup = rbacv1.GroupName
	}
}

// defaultSubjects sets an empty apiGroup of User and Group subjects to
// rbac.authorization.k8s.io; ServiceAccount subjects keep the core group.
// A ServiceAccount subject's empty namespace is left empty, as upstream
// leaves it: in a RoleBinding it means the binding's namespace.
func defaultSubjects(subjects []rbacv1.Subject) {
	for i := range subjects {
		s := &subjects[i]
		if s.APIGroup == "" && (s.Kind == rbacv1.UserKind || s.Kind == rbacv1.GroupKind) {
			s.APIGroup = rbacv1.GroupName
		}
	}
}
