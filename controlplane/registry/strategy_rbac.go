package registry

import (
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The rbac.authorization.k8s.io kinds, as upstream's pkg/registry/rbac
// strategies: no status, no generation, names are path segments, and a
// binding's roleRef is fixed once created. ClusterRole aggregationRules
// are validated and stored, but no controller aggregates them.

func roleStrategy() Strategy {
	return kind[*rbacv1.Role]{
		namespaced: true,
		name:       rbacName,
		validate:   validateRole,
	}
}

func clusterRoleStrategy() Strategy {
	return kind[*rbacv1.ClusterRole]{
		name:     rbacName,
		validate: validateClusterRole,
	}
}

func roleBindingStrategy() Strategy {
	return kind[*rbacv1.RoleBinding]{
		namespaced: true,
		name:       rbacName,
		defaults:   defaultRoleBinding,
		validate:   validateRoleBinding,
		validateUpdate: func(b, old *rbacv1.RoleBinding) field.ErrorList {
			return roleRefImmutable(b.RoleRef, old.RoleRef)
		},
	}
}

func clusterRoleBindingStrategy() Strategy {
	return kind[*rbacv1.ClusterRoleBinding]{
		name:     rbacName,
		defaults: defaultClusterRoleBinding,
		validate: validateClusterRoleBinding,
		validateUpdate: func(b, old *rbacv1.ClusterRoleBinding) field.ErrorList {
			return roleRefImmutable(b.RoleRef, old.RoleRef)
		},
	}
}
