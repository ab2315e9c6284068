package openapi

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	endpointsopenapi "k8s.io/apiserver/pkg/endpoints/openapi"
	"k8s.io/kube-openapi/pkg/common"

	"rudder/controlplane/catalog"
)

// isConnect tells the subresources that stream (SPDY/websocket upgrades)
// rather than carry an object; kube-apiserver documents them as "connect"
// operations.
func isConnect(name string) bool {
	return slices.Contains([]string{"exec", "attach", "portforward", "proxy"}, name)
}

// subresource returns the routes of one subresource: connect operations for
// exec/attach/portforward/proxy, a plain-text read for log, otherwise
// read/replace/patch/create of the subresource's kind (status, scale,
// finalize, eviction, binding, token).
func (k *kindRoutes) subresource(sub catalog.Subresource, s *runtime.Scheme) ([]common.Route, error) {
	sk := subKind{k: k, sub: sub, part: k.scope + k.res.Kind + endpointsopenapi.ToValidOperationID(sub.Name, true)}
	switch {
	case isConnect(sub.Name):
		return asRoutes(sk.connectRoutes()), nil
	case sub.Name == "log":
		return asRoutes(sk.logRoutes()), nil
	}
	obj, err := s.New(sub.Kind)
	if err != nil {
		return nil, fmt.Errorf("kind %s: %w", sub.Kind, err)
	}
	sk.obj = obj
	var out []*route
	for _, verb := range sub.Verbs {
		r, err := sk.verbRoute(verb)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return asRoutes(out), nil
}

// subKind builds the routes of one subresource of a resource.
type subKind struct {
	k    *kindRoutes
	sub  catalog.Subresource
	part string // operation id part after the verb and group version: NamespacedPodStatus
	obj  runtime.Object
}

func (sk subKind) path() string { return sk.k.item() + "/" + sk.sub.Name }

func (sk subKind) op(method, verb, action string) *route {
	return sk.k.op(method, sk.path(), verb, sk.part, action, sk.sub.Kind)
}

func (sk subKind) verbRoute(verb string) (*route, error) {
	kind, name := sk.k.res.Kind, sk.sub.Name
	var r *route
	switch verb {
	case "get":
		r = sk.k.withParams(sk.op(http.MethodGet, "read", "get"), true)
		r.desc, r.responses = "read "+name+" of the specified "+kind, ok200(sk.obj)
	case "update":
		r = sk.k.withParams(sk.op(http.MethodPut, "replace", "put"), true, append([]param{body(true)}, writeParams()...)...)
		r.desc, r.body = "replace "+name+" of the specified "+kind, sk.obj
		r.responses = written(sk.obj, http.StatusOK, http.StatusCreated)
	case "patch":
		r = sk.k.withParams(sk.op(http.MethodPatch, "patch", "patch"), true, append([]param{body(true)}, patchParams()...)...)
		r.desc, r.body, r.consumes = "partially update "+name+" of the specified "+kind, &metav1.Patch{}, patchMedia()
		r.responses = written(sk.obj, http.StatusOK, http.StatusCreated)
	case "create":
		r = sk.k.withParams(sk.op(http.MethodPost, "create", "post"), true, append([]param{body(true)}, writeParams()...)...)
		r.desc, r.body = "create "+name+" of a "+kind, sk.obj
		r.responses = written(sk.obj, http.StatusOK, http.StatusCreated, http.StatusAccepted)
	default:
		return nil, fmt.Errorf("verb %q of subresource %s is not documented", verb, name)
	}
	return r, nil
}

func (sk subKind) logRoutes() []*route {
	r := sk.k.withParams(sk.op(http.MethodGet, "read", "get"), true, logParams()...)
	r.desc = "read log of the specified " + sk.k.res.Kind
	r.produces = []string{mediaText, mediaJSON, mediaYAML, mediaProtobuf}
	r.responses = ok200("")
	return []*route{r}
}

// connectRoutes document GET and POST (and PUT, DELETE... if listed) of a
// streaming subresource; the verbs get and create map to GET and POST.
func (sk subKind) connectRoutes() []*route {
	var out []*route
	for _, verb := range sk.sub.Verbs {
		method := map[string]string{"get": http.MethodGet, "create": http.MethodPost,
			"update": http.MethodPut, "delete": http.MethodDelete, "patch": http.MethodPatch}[verb]
		if method == "" {
			continue
		}
		m := method[:1] + strings.ToLower(method[1:]) // Get, Post
		r := sk.k.op(method, sk.path(), "connect", m+sk.part, "connect", sk.sub.Kind)
		r.desc = "connect " + method + " requests to " + sk.sub.Name + " of " + sk.k.res.Kind
		r.produces, r.responses = []string{mediaAny}, ok200("")
		ps := append(append([]param{}, sk.k.scoped...), nameParam(sk.sub.Kind.Kind))
		r.params = params(append(ps, connectParams(sk.sub.Name)...)...)
		out = append(out, r)
	}
	return out
}
