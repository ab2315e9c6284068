// Package catalog says what the apiserver serves: every resource with its
// group, version, kind, scope, short names and subresources, and the scheme
// that knows their Go types. It is data, shared by the REST handlers,
// discovery, the OpenAPI document and the registry.
package catalog

import (
	appsv1 "k8s.io/api/apps/v1"
	authnv1 "k8s.io/api/authentication/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
)

// Verbs of a plain resource, as discovery lists them.
var (
	verbsAll      = []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
	verbsStatus   = []string{"get", "patch", "update"}
	verbsCreate   = []string{"create"}
	verbsGet      = []string{"get"}
	verbsGetPost  = []string{"create", "get"}
	categoriesAll = []string{"all"}
)

// Subresource is a resource's subresource (pods/status, deployments/scale).
type Subresource struct {
	Name  string
	Kind  schema.GroupVersionKind // the kind the subresource accepts/returns
	Verbs []string
}

// Resource is one served resource.
type Resource struct {
	schema.GroupVersionResource
	Kind         string
	Singular     string
	Namespaced   bool
	ShortNames   []string
	Categories   []string
	Verbs        []string
	Subresources []Subresource
}

// GVK returns the resource's group, version and kind.
func (r Resource) GVK() schema.GroupVersionKind { return r.GroupVersion().WithKind(r.Kind) }

// Subresource returns the named subresource, if served.
func (r Resource) Subresource(name string) (Subresource, bool) {
	for _, s := range r.Subresources {
		if s.Name == name {
			return s, true
		}
	}
	return Subresource{}, false
}

// HasStatus tells whether the resource has a status subresource, so that
// its main endpoint ignores status changes.
func (r Resource) HasStatus() bool { _, ok := r.Subresource("status"); return ok }

func status(gv schema.GroupVersion, kind string) Subresource {
	return Subresource{Name: "status", Kind: gv.WithKind(kind), Verbs: verbsStatus}
}

func scale() Subresource {
	return Subresource{Name: "scale", Kind: autoscalingv1.SchemeGroupVersion.WithKind("Scale"), Verbs: verbsStatus}
}

// Resources returns every served resource, grouped by group version in the
// order discovery lists them.
func Resources() []Resource {
	core := corev1.SchemeGroupVersion
	apps := appsv1.SchemeGroupVersion
	batch := batchv1.SchemeGroupVersion
	nw := networkingv1.SchemeGroupVersion
	rbac := rbacv1.SchemeGroupVersion
	res := func(gv schema.GroupVersion, resource, kind string, namespaced bool, short []string, cats []string, subs ...Subresource) Resource {
		return Resource{
			GroupVersionResource: gv.WithResource(resource),
			Kind:                 kind,
			Singular:             lower(kind),
			Namespaced:           namespaced,
			ShortNames:           short,
			Categories:           cats,
			Verbs:                verbsAll,
			Subresources:         subs,
		}
	}
	return []Resource{
		res(core, "configmaps", "ConfigMap", true, []string{"cm"}, nil),
		res(core, "endpoints", "Endpoints", true, []string{"ep"}, nil),
		res(core, "events", "Event", true, []string{"ev"}, nil),
		res(core, "namespaces", "Namespace", false, []string{"ns"}, nil, status(core, "Namespace"),
			Subresource{Name: "finalize", Kind: core.WithKind("Namespace"), Verbs: []string{"update"}}),
		res(core, "nodes", "Node", false, []string{"no"}, nil, status(core, "Node")),
		res(core, "pods", "Pod", true, []string{"po"}, categoriesAll,
			status(core, "Pod"),
			Subresource{Name: "binding", Kind: core.WithKind("Binding"), Verbs: verbsCreate},
			Subresource{Name: "eviction", Kind: policyv1.SchemeGroupVersion.WithKind("Eviction"), Verbs: verbsCreate},
			Subresource{Name: "exec", Kind: core.WithKind("PodExecOptions"), Verbs: verbsGetPost},
			Subresource{Name: "log", Kind: core.WithKind("Pod"), Verbs: verbsGet},
			Subresource{Name: "portforward", Kind: core.WithKind("PodPortForwardOptions"), Verbs: verbsGetPost}),
		res(core, "secrets", "Secret", true, nil, nil),
		res(core, "serviceaccounts", "ServiceAccount", true, []string{"sa"}, nil,
			Subresource{Name: "token", Kind: authnv1.SchemeGroupVersion.WithKind("TokenRequest"), Verbs: verbsCreate}),
		res(core, "services", "Service", true, []string{"svc"}, categoriesAll, status(core, "Service")),

		res(apps, "daemonsets", "DaemonSet", true, []string{"ds"}, categoriesAll, status(apps, "DaemonSet")),
		res(apps, "deployments", "Deployment", true, []string{"deploy"}, categoriesAll, scale(), status(apps, "Deployment")),
		res(apps, "replicasets", "ReplicaSet", true, []string{"rs"}, categoriesAll, scale(), status(apps, "ReplicaSet")),
		res(apps, "statefulsets", "StatefulSet", true, []string{"sts"}, categoriesAll, scale(), status(apps, "StatefulSet")),

		res(batch, "cronjobs", "CronJob", true, []string{"cj"}, categoriesAll, status(batch, "CronJob")),
		res(batch, "jobs", "Job", true, nil, categoriesAll, status(batch, "Job")),

		res(coordinationv1.SchemeGroupVersion, "leases", "Lease", true, nil, nil),
		res(discoveryv1.SchemeGroupVersion, "endpointslices", "EndpointSlice", true, nil, nil),
		res(eventsv1.SchemeGroupVersion, "events", "Event", true, []string{"ev"}, nil),

		res(nw, "ingressclasses", "IngressClass", false, nil, nil),
		res(nw, "ingresses", "Ingress", true, []string{"ing"}, nil, status(nw, "Ingress")),
		res(nw, "networkpolicies", "NetworkPolicy", true, []string{"netpol"}, nil),

		res(rbac, "clusterrolebindings", "ClusterRoleBinding", false, nil, nil),
		res(rbac, "clusterroles", "ClusterRole", false, nil, nil),
		res(rbac, "rolebindings", "RoleBinding", true, nil, nil),
		res(rbac, "roles", "Role", true, nil, nil),
	}
}

func lower(kind string) string {
	b := []byte(kind)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// Groups returns the served group versions in discovery order (the legacy
// core group first).
func Groups() []schema.GroupVersion {
	var out []schema.GroupVersion
	seen := map[schema.GroupVersion]bool{}
	for _, r := range Resources() {
		gv := r.GroupVersion()
		if !seen[gv] {
			seen[gv] = true
			out = append(out, gv)
		}
	}
	return out
}

// NewScheme returns a scheme holding every served type plus the meta and
// subresource types (Scale, Eviction, Binding, options).
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme,
		autoscalingv1.AddToScheme, policyv1.AddToScheme, authnv1.AddToScheme,
		coordinationv1.AddToScheme, discoveryv1.AddToScheme, eventsv1.AddToScheme,
		networkingv1.AddToScheme, rbacv1.AddToScheme, metav1.AddMetaToScheme,
	} {
		if err := add(s); err != nil {
			panic(err) // static registration of k8s.io/api types cannot fail
		}
	}
	metav1.AddToGroupVersion(s, schema.GroupVersion{Version: "v1"})
	return s
}

// NewCodecs returns the codec factory for a scheme from NewScheme.
func NewCodecs(s *runtime.Scheme) serializer.CodecFactory {
	return serializer.NewCodecFactory(s)
}

// Lookup finds a served resource by group, version and resource name.
func Lookup(gvr schema.GroupVersionResource) (Resource, bool) {
	for _, r := range Resources() {
		if r.GroupVersionResource == gvr {
			return r, true
		}
	}
	return Resource{}, false
}

// ByKind finds a served resource by group, version and kind. Core and
// events.k8s.io both serve an Event kind; the group disambiguates.
func ByKind(gvk schema.GroupVersionKind) (Resource, bool) {
	for _, r := range Resources() {
		if r.GVK() == gvk {
			return r, true
		}
	}
	return Resource{}, false
}
