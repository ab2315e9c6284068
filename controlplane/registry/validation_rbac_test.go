package registry

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func clusterMeta(name string) metav1.ObjectMeta {
	m := meta(name)
	m.Namespace = ""
	return m
}

var readPods = rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "watch"}}

func withRole(f func(*rbacv1.Role)) runtime.Object {
	r := &rbacv1.Role{ObjectMeta: meta("pod-reader"), Rules: []rbacv1.PolicyRule{readPods}}
	f(r)
	return r
}

func withClusterRole(f func(*rbacv1.ClusterRole)) runtime.Object {
	r := &rbacv1.ClusterRole{ObjectMeta: clusterMeta("system:coredns"), Rules: []rbacv1.PolicyRule{
		readPods, {NonResourceURLs: []string{"/healthz", "/metrics/*"}, Verbs: []string{"get"}},
	}}
	f(r)
	return r
}

func withRoleBinding(f func(*rbacv1.RoleBinding)) runtime.Object {
	b := &rbacv1.RoleBinding{
		ObjectMeta: meta("read-pods"),
		RoleRef:    rbacv1.RoleRef{Kind: "Role", Name: "pod-reader"},
		Subjects: []rbacv1.Subject{
			{Kind: "ServiceAccount", Name: "coredns"},
			{Kind: "User", Name: "jane"},
			{Kind: "Group", Name: "system:nodes"},
		},
	}
	f(b)
	return b
}

func withClusterRoleBinding(f func(*rbacv1.ClusterRoleBinding)) runtime.Object {
	b := &rbacv1.ClusterRoleBinding{
		ObjectMeta: clusterMeta("system:coredns"),
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "system:coredns"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "coredns", Namespace: "kube-system"}},
	}
	f(b)
	return b
}

func TestValidateRoles(t *testing.T) {
	runCreateCases(t, []createCase{
		{"valid role", withRole(func(*rbacv1.Role) {}), nil},
		{"role without rules", withRole(func(r *rbacv1.Role) { r.Rules = nil }), nil},
		{"role name is a path segment", withRole(func(r *rbacv1.Role) { r.Name = "system:Pod_Reader" }), nil},
		{"role name without slash", withRole(func(r *rbacv1.Role) { r.Name = "a/b" }),
			[]wantErr{{"metadata.name", invalidValue, `may not contain '/'`}}},
		{"role name not ..", withRole(func(r *rbacv1.Role) { r.Name = ".." }),
			[]wantErr{{"metadata.name", invalidValue, `may not be '..'`}}},
		{"role needs a namespace", withRole(func(r *rbacv1.Role) { r.Namespace = "" }),
			[]wantErr{{"metadata.namespace", required, ""}}},
		{"verbs required", withRole(func(r *rbacv1.Role) { r.Rules[0].Verbs = nil }),
			[]wantErr{{"rules[0].verbs", required, "verbs must contain at least one value"}}},
		{"resource rule needs groups and resources", withRole(func(r *rbacv1.Role) {
			r.Rules = append(r.Rules, rbacv1.PolicyRule{Verbs: []string{"get"}})
		}), []wantErr{
			{"rules[1].apiGroups", required, "resource rules must supply at least one api group"},
			{"rules[1].resources", required, "resource rules must supply at least one resource"},
		}},
		{"no non-resource URLs in a role", withRole(func(r *rbacv1.Role) {
			r.Rules = []rbacv1.PolicyRule{{NonResourceURLs: []string{"/healthz"}, Verbs: []string{"get"}}}
		}), []wantErr{{"rules[0].nonResourceURLs", invalidValue, "namespaced rules cannot apply to non-resource URLs"}}},

		{"valid cluster role", withClusterRole(func(*rbacv1.ClusterRole) {}), nil},
		{"cluster role is cluster-scoped", withClusterRole(func(r *rbacv1.ClusterRole) { r.Namespace = "default" }),
			[]wantErr{{"metadata.namespace", forbidden, "not allowed on this type"}}},
		{"non-resource URLs not with resources", withClusterRole(func(r *rbacv1.ClusterRole) {
			r.Rules[1].Resources = []string{"pods"}
		}), []wantErr{{"rules[1].nonResourceURLs", invalidValue, "rules cannot apply to both regular resources and non-resource URLs"}}},
		{"aggregation rule", withClusterRole(func(r *rbacv1.ClusterRole) {
			r.Rules = nil
			r.AggregationRule = &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{
				{MatchLabels: map[string]string{"rbac.example.com/aggregate-to-view": "true"}},
			}}
		}), nil},
		{"aggregation rule needs selectors", withClusterRole(func(r *rbacv1.ClusterRole) {
			r.AggregationRule = &rbacv1.AggregationRule{}
		}), []wantErr{{"aggregationRule.clusterRoleSelectors", required, "at least one clusterRoleSelector required"}}},
		{"aggregation rule selector", withClusterRole(func(r *rbacv1.ClusterRole) {
			r.AggregationRule = &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{
				{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "a", Operator: "Exists", Values: []string{"x"}}}},
			}}
		}), []wantErr{{"aggregationRule.clusterRoleSelectors[0].matchExpressions[0].values", forbidden, ""}}},
	})
}

func TestValidateBindings(t *testing.T) {
	runCreateCases(t, []createCase{
		{"valid role binding", withRoleBinding(func(*rbacv1.RoleBinding) {}), nil},
		{"role binding to a cluster role", withRoleBinding(func(b *rbacv1.RoleBinding) { b.RoleRef.Kind = "ClusterRole" }), nil},
		{"role binding without subjects", withRoleBinding(func(b *rbacv1.RoleBinding) { b.Subjects = nil }), nil},
		{"roleRef kind", withRoleBinding(func(b *rbacv1.RoleBinding) { b.RoleRef.Kind = "ServiceAccount" }),
			[]wantErr{{"roleRef.kind", notSupported, `supported values: "Role", "ClusterRole"`}}},
		{"roleRef apiGroup", withRoleBinding(func(b *rbacv1.RoleBinding) { b.RoleRef.APIGroup = "rbac" }),
			[]wantErr{{"roleRef.apiGroup", notSupported, `"rbac.authorization.k8s.io"`}}},
		{"roleRef name required", withRoleBinding(func(b *rbacv1.RoleBinding) { b.RoleRef.Name = "" }),
			[]wantErr{{"roleRef.name", required, ""}}},
		{"roleRef name is a path segment", withRoleBinding(func(b *rbacv1.RoleBinding) { b.RoleRef.Name = "a%b" }),
			[]wantErr{{"roleRef.name", invalidValue, `may not contain '%'`}}},
		{"subject name required", withRoleBinding(func(b *rbacv1.RoleBinding) { b.Subjects[1].Name = "" }),
			[]wantErr{{"subjects[1].name", required, ""}}},
		{"subject kind", withRoleBinding(func(b *rbacv1.RoleBinding) { b.Subjects[1].Kind = "Robot" }),
			[]wantErr{{"subjects[1].kind", notSupported, `supported values: "ServiceAccount", "User", "Group"`}}},
		{"service account name", withRoleBinding(func(b *rbacv1.RoleBinding) { b.Subjects[0].Name = "Core_DNS" }),
			[]wantErr{{"subjects[0].name", invalidValue, "RFC 1123 subdomain"}}},
		{"service account apiGroup", withRoleBinding(func(b *rbacv1.RoleBinding) { b.Subjects[0].APIGroup = rbacv1.GroupName }),
			[]wantErr{{"subjects[0].apiGroup", notSupported, `supported values: ""`}}},
		{"user apiGroup", withRoleBinding(func(b *rbacv1.RoleBinding) { b.Subjects[1].APIGroup = "users.example.com" }),
			[]wantErr{{"subjects[1].apiGroup", notSupported, `"rbac.authorization.k8s.io"`}}},
		{"role binding name", withRoleBinding(func(b *rbacv1.RoleBinding) { b.Name = "" }),
			[]wantErr{{"metadata.name", required, "name or generateName is required"}}},

		{"valid cluster role binding", withClusterRoleBinding(func(*rbacv1.ClusterRoleBinding) {}), nil},
		{"cluster role binding to a role", withClusterRoleBinding(func(b *rbacv1.ClusterRoleBinding) { b.RoleRef.Kind = "Role" }),
			[]wantErr{{"roleRef.kind", notSupported, `supported values: "ClusterRole"`}}},
		{"cluster binding service account needs a namespace", withClusterRoleBinding(func(b *rbacv1.ClusterRoleBinding) {
			b.Subjects[0].Namespace = ""
		}), []wantErr{{"subjects[0].namespace", required, ""}}},
		{"group apiGroup", withClusterRoleBinding(func(b *rbacv1.ClusterRoleBinding) {
			b.Subjects = []rbacv1.Subject{{Kind: "Group", Name: "system:authenticated", APIGroup: "v1"}}
		}), []wantErr{{"subjects[0].apiGroup", notSupported, ""}}},
	})
}

func TestDefaultBindings(t *testing.T) {
	b := withRoleBinding(func(*rbacv1.RoleBinding) {}).(*rbacv1.RoleBinding)
	checkErrors(t, create(t, b))
	if b.RoleRef.APIGroup != rbacv1.GroupName {
		t.Errorf("roleRef.apiGroup = %q", b.RoleRef.APIGroup)
	}
	want := []string{"", rbacv1.GroupName, rbacv1.GroupName}
	for i, s := range b.Subjects {
		if s.APIGroup != want[i] {
			t.Errorf("subjects[%d] (%s).apiGroup = %q, want %q", i, s.Kind, s.APIGroup, want[i])
		}
	}
	if b.Subjects[0].Namespace != "" {
		t.Errorf("service account subject namespace defaulted to %q", b.Subjects[0].Namespace)
	}
	crb := withClusterRoleBinding(func(b *rbacv1.ClusterRoleBinding) { b.RoleRef.APIGroup = "" }).(*rbacv1.ClusterRoleBinding)
	checkErrors(t, create(t, crb))
	if crb.RoleRef.APIGroup != rbacv1.GroupName {
		t.Errorf("cluster roleRef.apiGroup = %q", crb.RoleRef.APIGroup)
	}
}

func TestValidateRBACUpdates(t *testing.T) {
	role := created(t, withClusterRole(func(*rbacv1.ClusterRole) {}).(*rbacv1.ClusterRole))
	rb := created(t, withRoleBinding(func(*rbacv1.RoleBinding) {}).(*rbacv1.RoleBinding))
	crb := created(t, withClusterRoleBinding(func(*rbacv1.ClusterRoleBinding) {}).(*rbacv1.ClusterRoleBinding))

	for _, tc := range []struct {
		name   string
		old    runtime.Object
		change func(runtime.Object)
		want   []wantErr
	}{
		{"rules may change", role, func(o runtime.Object) {
			o.(*rbacv1.ClusterRole).Rules[0].Verbs = []string{"*"}
		}, nil},
		{"rules are still validated", role, func(o runtime.Object) {
			o.(*rbacv1.ClusterRole).Rules[0].Verbs = nil
		}, []wantErr{{"rules[0].verbs", required, ""}}},
		{"subjects may change", rb, func(o runtime.Object) {
			b := o.(*rbacv1.RoleBinding)
			b.Subjects = append(b.Subjects, rbacv1.Subject{Kind: "User", Name: "joe"})
		}, nil},
		{"roleRef apiGroup may be left to defaulting", rb, func(o runtime.Object) {
			o.(*rbacv1.RoleBinding).RoleRef.APIGroup = ""
		}, nil},
		{"role binding roleRef is immutable", rb, func(o runtime.Object) {
			o.(*rbacv1.RoleBinding).RoleRef.Name = "pod-writer"
		}, []wantErr{{"roleRef", invalidValue, "cannot change roleRef"}}},
		{"role binding roleRef kind is immutable", rb, func(o runtime.Object) {
			o.(*rbacv1.RoleBinding).RoleRef.Kind = "ClusterRole"
		}, []wantErr{{"roleRef", invalidValue, "cannot change roleRef"}}},
		{"cluster role binding roleRef is immutable", crb, func(o runtime.Object) {
			o.(*rbacv1.ClusterRoleBinding).RoleRef.Name = "cluster-admin"
		}, []wantErr{{"roleRef", invalidValue, "cannot change roleRef"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := tc.old.DeepCopyObject()
			tc.change(obj)
			checkErrors(t, update(t, obj, tc.old), tc.want...)
		})
	}
}
