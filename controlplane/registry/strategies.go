package registry

import (
	"rudder/controlplane/catalog"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// strategies maps every served kind with rules of its own to its
// strategy. The values are small and stateless; building the map per call
// keeps the package free of mutable globals.
func strategies() map[schema.GroupKind]Strategy {
	core := func(kind string) schema.GroupKind { return schema.GroupKind{Kind: kind} }
	apps := func(kind string) schema.GroupKind { return schema.GroupKind{Group: "apps", Kind: kind} }
	batch := func(kind string) schema.GroupKind { return schema.GroupKind{Group: "batch", Kind: kind} }
	nw := func(kind string) schema.GroupKind { return schema.GroupKind{Group: "networking.k8s.io", Kind: kind} }
	rbac := func(kind string) schema.GroupKind {
		return schema.GroupKind{Group: "rbac.authorization.k8s.io", Kind: kind}
	}
	return map[schema.GroupKind]Strategy{
		core("ConfigMap"):      configMapStrategy(),
		core("Endpoints"):      endpointsStrategy(),
		core("Event"):          coreEventStrategy(),
		core("Namespace"):      newNamespaceStrategy(),
		core("Node"):           nodeStrategy(),
		core("Pod"):            podStrategy(),
		core("Secret"):         secretStrategy(),
		core("ServiceAccount"): serviceAccountStrategy(),
		core("Service"):        serviceStrategy(),

		apps("DaemonSet"):   daemonSetStrategy(),
		apps("Deployment"):  deploymentStrategy(),
		apps("ReplicaSet"):  replicaSetStrategy(),
		apps("StatefulSet"): statefulSetStrategy(),

		batch("CronJob"): cronJobStrategy(),
		batch("Job"):     jobStrategy(),

		{Group: "coordination.k8s.io", Kind: "Lease"}:      leaseStrategy(),
		{Group: "discovery.k8s.io", Kind: "EndpointSlice"}: endpointSliceStrategy(),
		{Group: "events.k8s.io", Kind: "Event"}:            eventsEventStrategy(),
		nw("Ingress"):                                      ingressStrategy(),
		nw("IngressClass"):                                 ingressClassStrategy(),
		nw("NetworkPolicy"):                                networkPolicyStrategy(),

		rbac("ClusterRole"):        clusterRoleStrategy(),
		rbac("ClusterRoleBinding"): clusterRoleBindingStrategy(),
		rbac("Role"):               roleStrategy(),
		rbac("RoleBinding"):        roleBindingStrategy(),
	}
}

// namespaced tells from the catalog whether a kind is namespaced; kinds the
// catalog does not serve are taken to be.
func namespaced(gk schema.GroupKind) bool {
	for _, r := range catalog.Resources() {
		if r.Group == gk.Group && r.Kind == gk.Kind {
			return r.Namespaced
		}
	}
	return true
}
