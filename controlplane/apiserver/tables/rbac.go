package tables

import (
	"strings"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Roles and cluster roles print as upstream's default table convertor
// does (NAME, CREATED AT); bindings as upstream's printRoleBinding and
// printClusterRoleBinding (NAME, ROLE, AGE, wide USERS, GROUPS,
// SERVICEACCOUNTS).

func rolePrinter() printer {
	return typed(rbacv1.SchemeGroupVersion.WithKind("Role"), createdAtColumns(),
		func(r *rbacv1.Role, _ time.Time) []interface{} { return createdAtCells(r.ObjectMeta) })
}

func clusterRolePrinter() printer {
	return typed(rbacv1.SchemeGroupVersion.WithKind("ClusterRole"), createdAtColumns(),
		func(r *rbacv1.ClusterRole, _ time.Time) []interface{} { return createdAtCells(r.ObjectMeta) })
}

// createdAtColumns are NAME and CREATED AT, a date column.
func createdAtColumns() []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{nameColumn(), column("Created At", "date", objectMetaDoc("creationTimestamp"))}
}

// createdAtCells: the creation time in RFC 3339, UTC.
func createdAtCells(m metav1.ObjectMeta) []interface{} {
	return []interface{}{m.Name, m.CreationTimestamp.UTC().Format(time.RFC3339)}
}

func roleBindingPrinter() printer {
	return typed(rbacv1.SchemeGroupVersion.WithKind("RoleBinding"),
		bindingColumns(rbacv1.RoleBinding{}.SwaggerDoc()["roleRef"], "roleBinding"),
		func(b *rbacv1.RoleBinding, now time.Time) []interface{} {
			return bindingCells(b.ObjectMeta, b.RoleRef, b.Subjects, now)
		})
}

func clusterRoleBindingPrinter() printer {
	return typed(rbacv1.SchemeGroupVersion.WithKind("ClusterRoleBinding"),
		bindingColumns(rbacv1.ClusterRoleBinding{}.SwaggerDoc()["roleRef"], "clusterRoleBinding"),
		func(b *rbacv1.ClusterRoleBinding, now time.Time) []interface{} {
			return bindingCells(b.ObjectMeta, b.RoleRef, b.Subjects, now)
		})
}

// bindingColumns: what names the kind in the wide columns' descriptions
// ("Users in the roleBinding").
func bindingColumns(roleRefDoc, what string) []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		nameColumn(),
		column("Role", "string", roleRefDoc),
		ageColumn(),
		wide(column("Users", "string", "Users in the "+what)),
		wide(column("Groups", "string", "Groups in the "+what)),
		wide(column("ServiceAccounts", "string", "ServiceAccounts in the "+what)),
	}
}

// bindingCells: ROLE is Kind/name; service accounts print as
// namespace/name (an empty namespace stays empty, as upstream prints it).
func bindingCells(m metav1.ObjectMeta, ref rbacv1.RoleRef, subjects []rbacv1.Subject, now time.Time) []interface{} {
	var users, groups, sas []string
	for _, s := range subjects {
		switch s.Kind {
		case rbacv1.UserKind:
			users = append(users, s.Name)
		case rbacv1.GroupKind:
			groups = append(groups, s.Name)
		case rbacv1.ServiceAccountKind:
			sas = append(sas, s.Namespace+"/"+s.Name)
		}
	}
	return []interface{}{
		m.Name, ref.Kind + "/" + ref.Name, age(m.CreationTimestamp, now),
		strings.Join(users, ", "), strings.Join(groups, ", "), strings.Join(sas, ", "),
	}
}
