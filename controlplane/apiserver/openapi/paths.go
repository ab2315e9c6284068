package openapi

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	endpointsopenapi "k8s.io/apiserver/pkg/endpoints/openapi"
	"k8s.io/kube-openapi/pkg/common"

	"rudder/controlplane/catalog"
)

// groupContainers returns one route container per served group version, in
// the order the resources first name them.
func groupContainers(resources []catalog.Resource, s *runtime.Scheme) ([]*container, error) {
	var out []*container
	byGV := map[schema.GroupVersion]*container{}
	for _, res := range resources {
		gv := res.GroupVersion()
		c, ok := byGV[gv]
		if !ok {
			c = &container{root: gvPath(gv), routes: []common.Route{apiResourcesRoute(gv)}}
			byGV[gv] = c
			out = append(out, c)
		}
		routes, err := resourceRoutes(res, s)
		if err != nil {
			return nil, fmt.Errorf("routes of %s: %w", res.GroupVersionResource, err)
		}
		c.routes = append(c.routes, routes...)
	}
	return out, nil
}

// gvPath is the URL path a group version is served under.
func gvPath(gv schema.GroupVersion) string {
	if gv.Group == "" {
		return "/api/" + gv.Version
	}
	return "/apis/" + gv.Group + "/" + gv.Version
}

// gvID is the group version part of operation ids: CoreV1, NetworkingV1.
func gvID(gv schema.GroupVersion) string {
	return endpointsopenapi.ToValidOperationID(groupName(gv), true) +
		endpointsopenapi.ToValidOperationID(gv.Version, true)
}

// gvTag is the tag of a group version's operations: core_v1, networking_v1.
func gvTag(gv schema.GroupVersion) string {
	return endpointsopenapi.ToValidOperationID(groupName(gv), false) + "_" +
		endpointsopenapi.ToValidOperationID(gv.Version, false)
}

func groupName(gv schema.GroupVersion) string {
	if gv.Group == "" {
		return "core"
	}
	return strings.TrimSuffix(gv.Group, ".k8s.io")
}

func gvkMeta(gvk schema.GroupVersionKind) map[string]any {
	return map[string]any{"group": gvk.Group, "version": gvk.Version, "kind": gvk.Kind}
}

func apiResourcesRoute(gv schema.GroupVersion) *route {
	return &route{
		method:    http.MethodGet,
		path:      gvPath(gv) + "/",
		id:        "get" + gvID(gv) + "APIResources",
		tag:       gvTag(gv),
		desc:      "get available resources",
		consumes:  objectMedia(),
		produces:  objectMedia(),
		responses: ok200(&metav1.APIResourceList{}),
	}
}

func ok200(model any) []common.StatusCodeResponse {
	return []common.StatusCodeResponse{response{http.StatusOK, "OK", model}}
}

func written(model any, codes ...int) []common.StatusCodeResponse {
	out := make([]common.StatusCodeResponse, len(codes))
	for i, c := range codes {
		out[i] = response{c, http.StatusText(c), model}
	}
	return out
}

func asRoutes(rs []*route) []common.Route {
	out := make([]common.Route, len(rs))
	for i, r := range rs {
		out[i] = r
	}
	return out
}

// kindRoutes builds the routes of one resource.
type kindRoutes struct {
	res        catalog.Resource
	gv         string // operation id part, CoreV1
	tag        string
	scope      string // "Namespaced" or ""
	collection string // path of the collection in its namespace
	scoped     []param
	obj, list  runtime.Object
}

func resourceRoutes(res catalog.Resource, s *runtime.Scheme) ([]common.Route, error) {
	k, err := newKindRoutes(res, s)
	if err != nil {
		return nil, err
	}
	routes := k.main()
	for _, sub := range res.Subresources {
		subRoutes, err := k.subresource(sub, s)
		if err != nil {
			return nil, fmt.Errorf("subresource %s: %w", sub.Name, err)
		}
		routes = append(routes, subRoutes...)
	}
	return routes, nil
}

func newKindRoutes(res catalog.Resource, s *runtime.Scheme) (*kindRoutes, error) {
	gv := res.GroupVersion()
	obj, err := s.New(res.GVK())
	if err != nil {
		return nil, fmt.Errorf("kind %s: %w", res.Kind, err)
	}
	list, err := s.New(gv.WithKind(res.Kind + "List"))
	if err != nil {
		return nil, fmt.Errorf("list kind of %s: %w", res.Kind, err)
	}
	k := &kindRoutes{res: res, gv: gvID(gv), tag: gvTag(gv), obj: obj, list: list,
		collection: gvPath(gv) + "/" + res.Resource}
	if res.Namespaced {
		k.scope = "Namespaced"
		k.collection = gvPath(gv) + "/namespaces/{namespace}/" + res.Resource
		k.scoped = []param{namespaceParam()}
	}
	return k, nil
}

func (k *kindRoutes) item() string { return k.collection + "/{name}" }

func (k *kindRoutes) has(verb string) bool { return slices.Contains(k.res.Verbs, verb) }

// op starts a route of this resource; the id is verb+GV+part.
func (k *kindRoutes) op(method, path, verb, part, action string, gvk schema.GroupVersionKind) *route {
	return &route{
		method:   method,
		path:     path,
		id:       verb + k.gv + part,
		tag:      k.tag,
		consumes: []string{mediaAny},
		produces: objectMedia(),
		meta:     map[string]any{extensionAction: action, extensionGVK: gvkMeta(gvk)},
	}
}

// withParams sets the route's parameters: namespace if namespaced, name if
// item, pretty, then extra.
func (k *kindRoutes) withParams(r *route, item bool, extra ...param) *route {
	ps := append([]param{}, k.scoped...)
	if item {
		ps = append(ps, nameParam(k.res.Kind))
	}
	ps = append(ps, prettyParam())
	r.params = params(append(ps, extra...)...)
	return r
}

// main returns the routes of the resource itself, verb by verb.
func (k *kindRoutes) main() []common.Route {
	var out []common.Route
	for _, v := range []struct {
		verb  string
		build func() []*route
	}{
		{"list", k.listRoutes}, {"create", k.createRoute}, {"deletecollection", k.deleteCollectionRoute},
		{"get", k.readRoute}, {"update", k.replaceRoute}, {"patch", k.patchRoute},
		{"delete", k.deleteRoute}, {"watch", k.watchRoutes},
	} {
		if k.has(v.verb) {
			out = append(out, asRoutes(v.build())...)
		}
	}
	return out
}

func (k *kindRoutes) listRoutes() []*route {
	kind, gvk := k.res.Kind, k.res.GVK()
	r := k.op(http.MethodGet, k.collection, "list", k.scope+kind, "list", gvk)
	r.desc = "list or watch objects of kind " + kind
	r.produces, r.responses = streamMedia(), ok200(k.list)
	out := []*route{k.withParams(r, false, listParams()...)}
	if k.res.Namespaced {
		all := k.op(http.MethodGet, gvPath(k.res.GroupVersion())+"/"+k.res.Resource,
			"list", kind+"ForAllNamespaces", "list", gvk)
		all.desc, all.produces, all.responses = r.desc, streamMedia(), ok200(k.list)
		all.params = params(append([]param{prettyParam()}, listParams()...)...)
		out = append(out, all)
	}
	return out
}

func (k *kindRoutes) createRoute() []*route {
	r := k.op(http.MethodPost, k.collection, "create", k.scope+k.res.Kind, "post", k.res.GVK())
	r.desc, r.body = "create a "+k.res.Kind, k.obj
	r.responses = written(k.obj, http.StatusOK, http.StatusCreated, http.StatusAccepted)
	return []*route{k.withParams(r, false, append([]param{body(true)}, writeParams()...)...)}
}

func (k *kindRoutes) deleteCollectionRoute() []*route {
	r := k.op(http.MethodDelete, k.collection, "delete", "Collection"+k.scope+k.res.Kind, "deletecollection", k.res.GVK())
	r.desc, r.body, r.responses = "delete collection of "+k.res.Kind, &metav1.DeleteOptions{}, ok200(&metav1.Status{})
	extra := append(append([]param{body(false)}, deleteParams()...), selectionParams()...)
	return []*route{k.withParams(r, false, extra...)}
}

func (k *kindRoutes) readRoute() []*route {
	r := k.op(http.MethodGet, k.item(), "read", k.scope+k.res.Kind, "get", k.res.GVK())
	r.desc, r.responses = "read the specified "+k.res.Kind, ok200(k.obj)
	return []*route{k.withParams(r, true)}
}

func (k *kindRoutes) replaceRoute() []*route {
	r := k.op(http.MethodPut, k.item(), "replace", k.scope+k.res.Kind, "put", k.res.GVK())
	r.desc, r.body = "replace the specified "+k.res.Kind, k.obj
	r.responses = written(k.obj, http.StatusOK, http.StatusCreated)
	return []*route{k.withParams(r, true, append([]param{body(true)}, writeParams()...)...)}
}

func (k *kindRoutes) patchRoute() []*route {
	r := k.op(http.MethodPatch, k.item(), "patch", k.scope+k.res.Kind, "patch", k.res.GVK())
	r.desc, r.body, r.consumes = "partially update the specified "+k.res.Kind, &metav1.Patch{}, patchMedia()
	r.responses = written(k.obj, http.StatusOK, http.StatusCreated)
	return []*route{k.withParams(r, true, append([]param{body(true)}, patchParams()...)...)}
}

func (k *kindRoutes) deleteRoute() []*route {
	r := k.op(http.MethodDelete, k.item(), "delete", k.scope+k.res.Kind, "delete", k.res.GVK())
	r.desc, r.body = "delete a "+k.res.Kind, &metav1.DeleteOptions{}
	r.responses = written(&metav1.Status{}, http.StatusOK, http.StatusAccepted)
	return []*route{k.withParams(r, true, append([]param{body(false)}, deleteParams()...)...)}
}

// watchRoutes are the deprecated /watch/ paths kube-apiserver still serves.
func (k *kindRoutes) watchRoutes() []*route {
	kind, gvk, gvp := k.res.Kind, k.res.GVK(), gvPath(k.res.GroupVersion())
	watchPath := strings.Replace(k.collection, gvp, gvp+"/watch", 1)
	one := k.op(http.MethodGet, watchPath+"/{name}", "watch", k.scope+kind, "watch", gvk)
	one.desc = "watch changes to an object of kind " + kind +
		". deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter."
	list := k.op(http.MethodGet, watchPath, "watch", k.scope+kind+"List", "watchlist", gvk)
	list.desc = "watch individual changes to a list of " + kind +
		". deprecated: use the 'watch' parameter with a list operation instead."
	out := []*route{k.withParams(one, true, listParams()...), k.withParams(list, false, listParams()...)}
	if k.res.Namespaced {
		all := k.op(http.MethodGet, gvp+"/watch/"+k.res.Resource, "watch", kind+"ListForAllNamespaces", "watchlist", gvk)
		all.desc = list.desc
		all.params = params(append([]param{prettyParam()}, listParams()...)...)
		out = append(out, all)
	}
	for _, r := range out {
		r.produces, r.responses = streamMedia(), ok200(&metav1.WatchEvent{})
	}
	return out
}
