package tables

import (
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
)

func TestRBAC(t *testing.T) {
	created := objMeta("pod-reader", 2*time.Hour)
	clusterMeta := objMeta("system:coredns", 2*time.Hour)
	clusterMeta.Namespace = ""
	ref := func(kind, name string) rbacv1.RoleRef {
		return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: name}
	}
	subjects := []rbacv1.Subject{
		{Kind: "ServiceAccount", Name: "coredns", Namespace: "kube-system"},
		{Kind: "User", APIGroup: rbacv1.GroupName, Name: "jane"},
		{Kind: "ServiceAccount", Name: "default"},
		{Kind: "Group", APIGroup: rbacv1.GroupName, Name: "system:nodes"},
		{Kind: "User", APIGroup: rbacv1.GroupName, Name: "joe"},
	}
	at := created.CreationTimestamp.UTC().Format(time.RFC3339)
	roleHeaders := []string{"Name", "Created At"}
	bindingHeaders := []string{"Name", "Role", "Age", "Users+", "Groups+", "ServiceAccounts+"}

	runKindCases(t, []kindCase{
		{"role", &rbacv1.Role{ObjectMeta: created}, roleHeaders, []interface{}{"pod-reader", at}},
		{"cluster role", &rbacv1.ClusterRole{ObjectMeta: clusterMeta}, roleHeaders, []interface{}{"system:coredns", at}},
		{"role binding", &rbacv1.RoleBinding{ObjectMeta: created, RoleRef: ref("Role", "pod-reader"), Subjects: subjects},
			bindingHeaders, []interface{}{"pod-reader", "Role/pod-reader", "120m", "jane, joe", "system:nodes", "kube-system/coredns, /default"}},
		{"cluster role binding", &rbacv1.ClusterRoleBinding{ObjectMeta: clusterMeta, RoleRef: ref("ClusterRole", "system:coredns"), Subjects: subjects[:1]},
			bindingHeaders, []interface{}{"system:coredns", "ClusterRole/system:coredns", "120m", "", "", "kube-system/coredns"}},
		{"binding without subjects", &rbacv1.RoleBinding{ObjectMeta: created, RoleRef: ref("ClusterRole", "view")},
			bindingHeaders, []interface{}{"pod-reader", "ClusterRole/view", "120m", "", "", ""}},
	})

	table, err := Convert(&rbacv1.ClusterRole{ObjectMeta: clusterMeta}, Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if c := table.ColumnDefinitions[1]; c.Type != "date" {
		t.Errorf("Created At type %q, want date", c.Type)
	}
}
