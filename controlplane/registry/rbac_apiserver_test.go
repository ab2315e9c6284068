package registry_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"rudder/controlplane/apiserver/apiservertest"
)

// rbacClients returns a protobuf clientset (client-go's default) and a
// JSON dynamic client of one apiserver.
func rbacClients(t *testing.T) (kubernetes.Interface, dynamic.Interface) {
	t.Helper()
	cfg := apiservertest.Start(t)
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(rest.CopyConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	return cs, dyn
}

// TestRBACThroughClientGo: the four RBAC kinds are served, discovered,
// created, read, listed, validated and server-side applied through
// client-go, as `rudder lab up` and kubectl use them.
func TestRBACThroughClientGo(t *testing.T) {
	cs, dyn := rbacClients(t)
	ctx := context.Background()
	checkRBACDiscovery(t, cs)

	rules := []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}}}
	cr, err := cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "system:coredns"},
		Rules:      append(rules, rbacv1.PolicyRule{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}),
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create clusterrole: %v", err)
	}
	if cr.UID == "" || cr.ResourceVersion == "" {
		t.Errorf("clusterrole without uid/resourceVersion: %+v", cr.ObjectMeta)
	}
	sa := rbacv1.Subject{Kind: "ServiceAccount", Name: "coredns", Namespace: "kube-system"}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "system:coredns"},
		RoleRef:    rbacv1.RoleRef{Kind: "ClusterRole", Name: "system:coredns"},
		Subjects:   []rbacv1.Subject{sa, {Kind: "User", Name: "jane"}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create clusterrolebinding: %v", err)
	}
	if _, err := cs.RbacV1().Roles("default").Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "pod-reader"}, Rules: rules,
	}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create role: %v", err)
	}
	rb, err := cs.RbacV1().RoleBindings("default").Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "read-pods"},
		RoleRef:    rbacv1.RoleRef{Kind: "Role", Name: "pod-reader"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "default"}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create rolebinding: %v", err)
	}
	if rb.RoleRef.APIGroup != rbacv1.GroupName {
		t.Errorf("roleRef.apiGroup not defaulted: %+v", rb.RoleRef)
	}

	checkRBACGetList(t, cs)
	checkRBACValidation(t, cs, rb)
	checkRBACApply(t, cs, dyn)
}

func checkRBACDiscovery(t *testing.T, cs kubernetes.Interface) {
	t.Helper()
	list, err := cs.Discovery().ServerResourcesForGroupVersion("rbac.authorization.k8s.io/v1")
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	want := map[string]bool{"clusterrolebindings": false, "clusterroles": false, "rolebindings": true, "roles": true}
	for _, r := range list.APIResources {
		namespaced, ok := want[r.Name]
		if !ok {
			continue
		}
		delete(want, r.Name)
		if r.Namespaced != namespaced || !slices.Contains(r.Verbs, "patch") {
			t.Errorf("discovery of %s: namespaced %v, verbs %v", r.Name, r.Namespaced, r.Verbs)
		}
	}
	if len(want) > 0 {
		t.Errorf("discovery lacks %v", want)
	}
}

func checkRBACGetList(t *testing.T, cs kubernetes.Interface) {
	t.Helper()
	ctx := context.Background()
	rbac := cs.RbacV1()
	if got, err := rbac.ClusterRoles().Get(ctx, "system:coredns", metav1.GetOptions{}); err != nil || len(got.Rules) != 2 {
		t.Errorf("get clusterrole: %v, %+v", err, got)
	}
	crbs, err := rbac.ClusterRoleBindings().List(ctx, metav1.ListOptions{})
	if err != nil || len(crbs.Items) != 1 || crbs.Items[0].Subjects[1].APIGroup != rbacv1.GroupName {
		t.Errorf("list clusterrolebindings: %v, %+v", err, crbs)
	}
	roles, err := rbac.Roles("").List(ctx, metav1.ListOptions{})
	if err != nil || len(roles.Items) != 1 || roles.Items[0].Namespace != "default" {
		t.Errorf("list roles in all namespaces: %v, %+v", err, roles)
	}
	if rbs, err := rbac.RoleBindings("kube-system").List(ctx, metav1.ListOptions{}); err != nil || len(rbs.Items) != 0 {
		t.Errorf("list rolebindings in kube-system: %v, %+v", err, rbs)
	}
}

func checkRBACValidation(t *testing.T, cs kubernetes.Interface, rb *rbacv1.RoleBinding) {
	t.Helper()
	ctx := context.Background()
	moved := rb.DeepCopy()
	moved.RoleRef.Name = "pod-writer"
	_, err := cs.RbacV1().RoleBindings("default").Update(ctx, moved, metav1.UpdateOptions{})
	wantInvalid(t, "roleRef change", err, "roleRef", "cannot change roleRef")

	_, err = cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "bad"},
		RoleRef:    rbacv1.RoleRef{Kind: "Role", Name: "pod-reader"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "coredns"}},
	}, metav1.CreateOptions{})
	wantInvalid(t, "cluster binding to a Role", err, "roleRef.kind", `supported values: "ClusterRole"`)
	wantInvalid(t, "cluster binding SA without namespace", err, "subjects[0].namespace", "Required value")

	_, err = cs.RbacV1().Roles("default").Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "urls"},
		Rules:      []rbacv1.PolicyRule{{NonResourceURLs: []string{"/healthz"}}},
	}, metav1.CreateOptions{})
	wantInvalid(t, "role with URLs", err, "rules[0].nonResourceURLs", "namespaced rules cannot apply to non-resource URLs")
	wantInvalid(t, "role without verbs", err, "rules[0].verbs", "verbs must contain at least one value")
}

// wantInvalid checks err is a 422 Invalid with a cause on field whose
// message contains msg.
func wantInvalid(t *testing.T, what string, err error, field, msg string) {
	t.Helper()
	if !apierrors.IsInvalid(err) {
		t.Errorf("%s: err = %v, want Invalid", what, err)
		return
	}
	for _, c := range err.(apierrors.APIStatus).Status().Details.Causes {
		if c.Field == field && strings.Contains(c.Message, msg) {
			return
		}
	}
	t.Errorf("%s: no cause %s %q in %v", what, field, msg, err)
}

// checkRBACApply: server-side apply through the typed apply
// configurations (protobuf client) and through the dynamic client (JSON),
// which is what `rudder lab up` does with deploy/*.yaml.
func checkRBACApply(t *testing.T, cs kubernetes.Interface, dyn dynamic.Interface) {
	t.Helper()
	ctx := context.Background()
	opts := metav1.ApplyOptions{FieldManager: "rbac-test", Force: true}
	ac := rbacv1ac.ClusterRole("system:ingress").WithRules(
		rbacv1ac.PolicyRule().WithAPIGroups("networking.k8s.io").WithResources("ingresses").WithVerbs("get", "list", "watch"))
	cr, err := cs.RbacV1().ClusterRoles().Apply(ctx, ac, opts)
	if err != nil {
		t.Fatalf("apply clusterrole: %v", err)
	}
	if len(cr.Rules) != 1 || len(cr.ManagedFields) == 0 || cr.ManagedFields[0].Manager != "rbac-test" {
		t.Errorf("applied clusterrole: %+v", cr)
	}

	gvr := schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
		"metadata": map[string]any{"name": "ingress", "namespace": "kube-system"},
		"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:ingress"},
		"subjects": []any{map[string]any{"kind": "ServiceAccount", "name": "ingress", "namespace": "kube-system"}},
	}}
	for range 2 { // the second apply patches the object the first created
		if _, err := dyn.Resource(gvr).Namespace("kube-system").Apply(ctx, "ingress", u, opts); err != nil {
			t.Fatalf("dynamic apply rolebinding: %v", err)
		}
	}
	u.Object["roleRef"].(map[string]any)["name"] = "view"
	_, err = dyn.Resource(gvr).Namespace("kube-system").Apply(ctx, "ingress", u, opts)
	wantInvalid(t, "apply changing roleRef", err, "roleRef", "cannot change roleRef")
}
