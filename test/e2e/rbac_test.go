package e2e

import (
	"strings"
	"testing"
)

// rbacManifest holds the four RBAC kinds the deploy/ manifests use; NS and
// SUFFIX are replaced per kubectl version so the runs do not meet.
const rbacManifest = `apiVersion: v1
kind: ServiceAccount
metadata:
  name: reader
  namespace: NS
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:reader-SUFFIX
  labels: {app: reader}
rules:
- apiGroups: [""]
  resources: ["services", "pods", "namespaces"]
  verbs: ["list", "watch"]
- nonResourceURLs: ["/metrics"]
  verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: system:reader-SUFFIX
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: system:reader-SUFFIX
subjects:
- kind: ServiceAccount
  name: reader
  namespace: NS
- kind: Group
  apiGroup: rbac.authorization.k8s.io
  name: system:monitoring
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: config-reader
  namespace: NS
rules:
- apiGroups: [""]
  resources: ["configmaps"]
  resourceNames: ["settings"]
  verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: config-reader
  namespace: NS
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: config-reader
subjects:
- kind: ServiceAccount
  name: reader
- kind: User
  apiGroup: rbac.authorization.k8s.io
  name: jane
`

// TestKubectlRBAC: client-side and server-side apply of ClusterRoles,
// ClusterRoleBindings, Roles and RoleBindings with real kubectl binaries,
// their tables, and upstream's validation errors. Authorization is not
// enforced: the objects are only stored.
func TestKubectlRBAC(t *testing.T) {
	s := startServer(t)
	for _, minor := range kubectlMinors {
		t.Run("kubectl-"+minor, func(t *testing.T) {
			k := newKubectl(t, s, minor)
			suffix := strings.ReplaceAll(minor, ".", "-")
			ns := "rbac-" + suffix
			manifest := strings.NewReplacer("NS", ns, "SUFFIX", suffix).Replace(rbacManifest)
			k.ok("create", "namespace", ns)
			rbacApply(t, k, manifest, suffix)
			rbacGet(t, k, ns, suffix)
			rbacServerSideApply(t, k, manifest, suffix)
			rbacErrors(t, k, manifest, ns)
		})
	}
}

func rbacApply(t *testing.T, k *kubectl, manifest, suffix string) {
	p := k.file("rbac.yaml", manifest)
	contains(t, "apply", k.ok("apply", "-f", p),
		"clusterrole.rbac.authorization.k8s.io/system:reader-"+suffix+" created",
		"clusterrolebinding.rbac.authorization.k8s.io/system:reader-"+suffix+" created",
		"role.rbac.authorization.k8s.io/config-reader created",
		"rolebinding.rbac.authorization.k8s.io/config-reader created")
	contains(t, "re-apply", k.ok("apply", "-f", p),
		"clusterrole.rbac.authorization.k8s.io/system:reader-"+suffix+" unchanged",
		"clusterrolebinding.rbac.authorization.k8s.io/system:reader-"+suffix+" unchanged",
		"role.rbac.authorization.k8s.io/config-reader unchanged",
		"rolebinding.rbac.authorization.k8s.io/config-reader unchanged")
	edited := strings.Replace(manifest, `verbs: ["list", "watch"]`, `verbs: ["get", "list", "watch"]`, 1)
	contains(t, "apply edited rules", k.ok("apply", "-f", k.file("rbac.yaml", edited)),
		"clusterrole.rbac.authorization.k8s.io/system:reader-"+suffix+" configured")
	contains(t, "edited verbs", k.ok("get", "clusterrole", "system:reader-"+suffix, "-o", "jsonpath={.rules[0].verbs}"), "get")
}

func rbacGet(t *testing.T, k *kubectl, ns, suffix string) {
	contains(t, "get clusterroles", k.ok("get", "clusterroles"), "NAME", "CREATED AT", "system:reader-"+suffix)
	contains(t, "get roles", k.ok("get", "roles", "-n", ns), "NAME", "CREATED AT", "config-reader")
	contains(t, "get clusterrolebindings -o wide", k.ok("get", "clusterrolebindings", "system:reader-"+suffix, "-o", "wide"),
		"ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS",
		"ClusterRole/system:reader-"+suffix, "system:monitoring", ns+"/reader")
	contains(t, "get rolebindings", k.ok("get", "rolebindings", "-n", ns), "ROLE", "Role/config-reader")
	contains(t, "-o yaml", k.ok("get", "rolebinding/config-reader", "-n", ns, "-o", "yaml"),
		"kind: RoleBinding", "apiGroup: rbac.authorization.k8s.io", "uid:")
	contains(t, "api-resources", k.ok("api-resources", "--api-group=rbac.authorization.k8s.io"),
		"clusterrolebindings", "clusterroles", "rolebindings", "roles")
	contains(t, "explain", k.ok("explain", "clusterrolebinding.roleRef"), "RoleRef")
}

func rbacServerSideApply(t *testing.T, k *kubectl, manifest, suffix string) {
	ssa := strings.Replace(manifest, "name: jane", "name: joe", 1)
	out := k.ok("apply", "--server-side", "--force-conflicts", "-f", k.file("rbac-ssa.yaml", ssa))
	contains(t, "server-side apply", out,
		"clusterrole.rbac.authorization.k8s.io/system:reader-"+suffix+" serverside-applied",
		"rolebinding.rbac.authorization.k8s.io/config-reader serverside-applied")
	ns := "rbac-" + suffix
	contains(t, "ssa subjects", k.ok("get", "rolebinding/config-reader", "-n", ns, "-o", "jsonpath={.subjects[1].name}"), "joe")
	other := strings.Replace(ssa, `verbs: ["list", "watch"]`, `verbs: ["list"]`, 1)
	p := k.file("rbac-other.yaml", other)
	contains(t, "ssa conflict", k.fails("apply", "--server-side", "--field-manager=other", "-f", p), "conflict")
}

func rbacErrors(t *testing.T, k *kubectl, manifest, ns string) {
	moved := strings.Replace(manifest, "  kind: Role\n  name: config-reader", "  kind: ClusterRole\n  name: view", 1)
	contains(t, "roleRef change", k.fails("apply", "-f", k.file("rbac-moved.yaml", moved)), "cannot change roleRef")
	bad := `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: urls, namespace: ` + ns + `}
rules:
- nonResourceURLs: ["/healthz"]
  verbs: ["get"]
`
	contains(t, "invalid role", k.fails("apply", "-f", k.file("rbac-bad.yaml", bad)),
		"rules[0].nonResourceURLs", "namespaced rules cannot apply to non-resource URLs")
}
