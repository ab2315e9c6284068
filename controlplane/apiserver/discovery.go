package apiserver

import (
	"net/http"
	"sort"
	"strings"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"rudder/controlplane/catalog"
)

// groupOrder lists group names in the order upstream's discovery does
// (core first, then by priority); anything else follows alphabetically.
var groupOrder = []string{"", "apps", "events.k8s.io", "autoscaling", "batch", "networking.k8s.io", "policy", "coordination.k8s.io", "discovery.k8s.io"}

func groupRank(g string) int {
	for i, n := range groupOrder {
		if n == g {
			return i
		}
	}
	return len(groupOrder)
}

// servedGroups returns the group names and their versions, ordered.
func servedGroups() ([]string, map[string][]string) {
	versions := map[string][]string{}
	var names []string
	for _, gv := range catalog.Groups() {
		if _, ok := versions[gv.Group]; !ok {
			names = append(names, gv.Group)
		}
		versions[gv.Group] = append(versions[gv.Group], gv.Version)
	}
	sort.SliceStable(names, func(i, j int) bool {
		ri, rj := groupRank(names[i]), groupRank(names[j])
		if ri != rj {
			return ri < rj
		}
		return names[i] < names[j]
	})
	return names, versions
}

func (s *Server) serveCoreGroup(w http.ResponseWriter, r *http.Request) {
	if v := wantsAggregatedDiscovery(r.Header.Get("Accept")); v != "" {
		s.writeAggregated(w, v, true)
		return
	}
	writeJSON(w, http.StatusOK, "application/json", &metav1.APIVersions{
		TypeMeta: metav1.TypeMeta{Kind: "APIVersions"},
		Versions: []string{"v1"},
		ServerAddressByClientCIDRs: []metav1.ServerAddressByClientCIDR{
			{ClientCIDR: "0.0.0.0/0", ServerAddress: s.serverAddress()},
		},
	})
}

func (s *Server) serverAddress() string {
	if s.cfg.AdvertiseAddress == nil {
		return ""
	}
	return joinHostPort(s.cfg.AdvertiseAddress.String(), s.cfg.Port)
}

func apiGroup(name string, versions []string) metav1.APIGroup {
	g := metav1.APIGroup{TypeMeta: metav1.TypeMeta{Kind: "APIGroup", APIVersion: "v1"}, Name: name}
	for _, v := range versions {
		g.Versions = append(g.Versions, metav1.GroupVersionForDiscovery{GroupVersion: name + "/" + v, Version: v})
	}
	g.PreferredVersion = g.Versions[0]
	return g
}

func (s *Server) serveGroups(w http.ResponseWriter, r *http.Request) {
	if v := wantsAggregatedDiscovery(r.Header.Get("Accept")); v != "" {
		s.writeAggregated(w, v, false)
		return
	}
	names, versions := servedGroups()
	list := &metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}}
	for _, n := range names {
		if n != "" {
			list.Groups = append(list.Groups, apiGroup(n, versions[n]))
		}
	}
	writeJSON(w, http.StatusOK, "application/json", list)
}

// serveDiscoveryPath answers /api/v1, /apis/{g} and /apis/{g}/{v}; false
// if the path is none of them.
func (s *Server) serveDiscoveryPath(w http.ResponseWriter, r *http.Request) bool {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	_, versions := servedGroups()
	switch {
	case len(parts) == 2 && parts[0] == "api" && parts[1] == "v1":
		s.writeResourceList(w, schema.GroupVersion{Version: "v1"})
	case len(parts) == 2 && parts[0] == "apis":
		vs, ok := versions[parts[1]]
		if !ok || parts[1] == "" {
			return false
		}
		g := apiGroup(parts[1], vs)
		writeJSON(w, http.StatusOK, "application/json", &g)
	case len(parts) == 3 && parts[0] == "apis":
		gv := schema.GroupVersion{Group: parts[1], Version: parts[2]}
		if !servesGroupVersion(gv) {
			return false
		}
		s.writeResourceList(w, gv)
	default:
		return false
	}
	return true
}

func servesGroupVersion(gv schema.GroupVersion) bool {
	for _, g := range catalog.Groups() {
		if g == gv {
			return true
		}
	}
	return false
}

func (s *Server) writeResourceList(w http.ResponseWriter, gv schema.GroupVersion) {
	list := &metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: gv.String()}
	for _, res := range catalog.Resources() {
		if res.GroupVersion() != gv {
			continue
		}
		list.APIResources = append(list.APIResources, metav1.APIResource{
			Name: res.Resource, SingularName: res.Singular, Namespaced: res.Namespaced, Kind: res.Kind,
			Verbs: res.Verbs, ShortNames: res.ShortNames, Categories: res.Categories,
			StorageVersionHash: storageVersionHash(res),
		})
		for _, sub := range res.Subresources {
			ar := metav1.APIResource{
				Name: res.Resource + "/" + sub.Name, Namespaced: res.Namespaced, Kind: sub.Kind.Kind, Verbs: sub.Verbs,
			}
			if sub.Kind.GroupVersion() != gv {
				ar.Group, ar.Version = sub.Kind.Group, sub.Kind.Version
			}
			list.APIResources = append(list.APIResources, ar)
		}
	}
	writeJSON(w, http.StatusOK, "application/json", list)
}

// storageVersionHash mirrors upstream's opaque per-resource hash so that
// clients that compare it see a stable value.
func storageVersionHash(r catalog.Resource) string {
	return hashString(r.Group + "/" + r.Version + "/" + r.Kind)[:11]
}

// writeAggregated answers aggregated discovery (v2 or v2beta1: the same
// shape) for the core group or for all named groups.
func (s *Server) writeAggregated(w http.ResponseWriter, version string, core bool) {
	names, versions := servedGroups()
	list := &apidiscoveryv2.APIGroupDiscoveryList{
		TypeMeta: metav1.TypeMeta{Kind: "APIGroupDiscoveryList", APIVersion: "apidiscovery.k8s.io/" + version},
	}
	for _, n := range names {
		if (n == "") != core {
			continue
		}
		g := apidiscoveryv2.APIGroupDiscovery{ObjectMeta: metav1.ObjectMeta{Name: n}}
		for _, v := range versions[n] {
			g.Versions = append(g.Versions, aggregatedVersion(schema.GroupVersion{Group: n, Version: v}))
		}
		list.Items = append(list.Items, g)
	}
	ct := "application/json;g=apidiscovery.k8s.io;v=" + version + ";as=APIGroupDiscoveryList"
	w.Header().Set("Vary", "Accept")
	writeJSON(w, http.StatusOK, ct, list)
}

func aggregatedVersion(gv schema.GroupVersion) apidiscoveryv2.APIVersionDiscovery {
	vd := apidiscoveryv2.APIVersionDiscovery{Version: gv.Version, Freshness: apidiscoveryv2.DiscoveryFreshnessCurrent}
	for _, res := range catalog.Resources() {
		if res.GroupVersion() != gv {
			continue
		}
		scope := apidiscoveryv2.ScopeCluster
		if res.Namespaced {
			scope = apidiscoveryv2.ScopeNamespace
		}
		rd := apidiscoveryv2.APIResourceDiscovery{
			Resource: res.Resource, SingularResource: res.Singular, Scope: scope, Verbs: res.Verbs,
			ShortNames: res.ShortNames, Categories: res.Categories,
			ResponseKind: &metav1.GroupVersionKind{Group: res.Group, Version: res.Version, Kind: res.Kind},
		}
		for _, sub := range res.Subresources {
			rd.Subresources = append(rd.Subresources, apidiscoveryv2.APISubresourceDiscovery{
				Subresource: sub.Name, Verbs: sub.Verbs,
				ResponseKind: &metav1.GroupVersionKind{Group: sub.Kind.Group, Version: sub.Kind.Version, Kind: sub.Kind.Kind},
			})
		}
		vd.Resources = append(vd.Resources, rd)
	}
	return vd
}
