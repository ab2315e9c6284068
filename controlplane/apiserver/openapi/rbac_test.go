package openapi

import (
	"fmt"

	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// TestRBACDocuments: the rbac.authorization.k8s.io/v1 group has its own v3
// document with the four kinds' paths and schemas.
func TestRBACDocuments(t *testing.T) {
	t.Parallel()
	s := newTestSpec(t)
	doc, ok := s.V3("apis/rbac.authorization.k8s.io/v1")
	if !ok {
		t.Fatalf("no v3 document for rbac.authorization.k8s.io/v1; have %v", s.V3Paths())
	}
	for _, p := range []string{
		"/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}",
		"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/{name}",
		"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/roles/{name}",
		"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/rolebindings/{name}",
	} {
		if _, ok := doc.Paths.Paths[p]; !ok {
			t.Errorf("v3 document lacks path %s", p)
		}
	}
	for _, name := range []string{"io.k8s.api.rbac.v1.ClusterRole", "io.k8s.api.rbac.v1.PolicyRule",
		"io.k8s.api.rbac.v1.Subject", "io.k8s.api.rbac.v1.AggregationRule"} {
		if _, ok := doc.Components.Schemas[name]; !ok {
			t.Errorf("v3 document lacks schema %s", name)
		}
		if _, ok := s.V2().Definitions[name]; !ok {
			t.Errorf("v2 document lacks definition %s", name)
		}
	}
}

const clusterRoleApply = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "system:coredns"}
rules:
- apiGroups: [""]
  resources: [endpoints, services, pods, namespaces]
  verbs: [%s]
aggregationRule:
  clusterRoleSelectors:
  - matchLabels: {rbac.example.com/aggregate-to-dns: "true"}
`

// TestRBACServerSideApply: server-side apply of a ClusterRole through the
// type converter; rules are an atomic list, so a second manager changing
// them conflicts.
func TestRBACServerSideApply(t *testing.T) {
	t.Parallel()
	s := newTestSpec(t)
	fm, err := s.FieldManager(rbacv1.SchemeGroupVersion.WithKind("ClusterRole"), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	empty := &rbacv1.ClusterRole{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
		ObjectMeta: metav1.ObjectMeta{Name: "system:coredns"}}
	live, err := fm.Apply(empty, applyPatch(t, fmt.Sprintf(clusterRoleApply, "list, watch")), "kubectl", false)
	if err != nil {
		t.Fatalf("first apply: %v", err)
	}
	cr := asClusterRole(t, live)
	if len(cr.Rules) != 1 || len(cr.Rules[0].Verbs) != 2 || cr.AggregationRule == nil {
		t.Fatalf("after apply: %+v", cr)
	}
	if !hasManager(cr.ManagedFields, "kubectl", metav1.ManagedFieldsOperationApply) {
		t.Fatalf("managedFields %+v lack kubectl's Apply", cr.ManagedFields)
	}
	_, err = fm.Apply(live, applyPatch(t, fmt.Sprintf(clusterRoleApply, "get")), "other", false)
	if !apierrors.IsConflict(err) {
		t.Fatalf("other manager's apply of rules: err = %v, want a conflict", err)
	}
	again, err := fm.Apply(live, applyPatch(t, fmt.Sprintf(clusterRoleApply, "get")), "kubectl", false)
	if err != nil {
		t.Fatalf("re-apply by the owner: %v", err)
	}
	if v := asClusterRole(t, again).Rules[0].Verbs; len(v) != 1 || v[0] != "get" {
		t.Fatalf("verbs after re-apply = %v", v)
	}
}

func TestRBACTypedObjects(t *testing.T) {
	t.Parallel()
	tc := newTestSpec(t).TypeConverter()
	ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"}
	subjects := []rbacv1.Subject{{Kind: "ServiceAccount", Name: "coredns", Namespace: "kube-system"}}
	meta := metav1.ObjectMeta{Name: "x", Namespace: "default"}
	gv := "rbac.authorization.k8s.io/v1"
	for _, obj := range []runtime.Object{
		&rbacv1.Role{TypeMeta: metav1.TypeMeta{APIVersion: gv, Kind: "Role"}, ObjectMeta: meta,
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get"}}}},
		&rbacv1.RoleBinding{TypeMeta: metav1.TypeMeta{APIVersion: gv, Kind: "RoleBinding"}, ObjectMeta: meta, RoleRef: ref, Subjects: subjects},
		&rbacv1.ClusterRoleBinding{TypeMeta: metav1.TypeMeta{APIVersion: gv, Kind: "ClusterRoleBinding"},
			ObjectMeta: metav1.ObjectMeta{Name: "x"}, RoleRef: ref, Subjects: subjects},
	} {
		tv, err := tc.ObjectToTyped(obj)
		if err != nil {
			t.Fatalf("ObjectToTyped(%T): %v", obj, err)
		}
		if _, err := tc.TypedToObject(tv); err != nil {
			t.Fatalf("TypedToObject(%T): %v", obj, err)
		}
	}
}

func asClusterRole(t *testing.T, obj runtime.Object) *rbacv1.ClusterRole {
	t.Helper()
	switch o := obj.(type) {
	case *rbacv1.ClusterRole:
		return o
	case *unstructured.Unstructured:
		cr := &rbacv1.ClusterRole{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, cr); err != nil {
			t.Fatal(err)
		}
		return cr
	}
	t.Fatalf("unexpected object %T", obj)
	return nil
}
