package apiserver

import (
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"rudder/controlplane/catalog"
	"rudder/controlplane/registry"
)

// request is one resource request, parsed.
type request struct {
	info      requestInfo
	res       catalog.Resource
	namespace string // "" for cluster-scoped resources
	name      string
	media     mediaChoice
	strategy  registry.Strategy
}

func (q *request) gr() schema.GroupResource { return q.res.GroupResource() }

func notFoundResource() error {
	return apierrors.NewNotFound(schema.GroupResource{}, "")
}

// serveAPI routes every /api and /apis request below the group version.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && s.serveDiscoveryPath(w, r) {
		return
	}
	q, err := s.parseRequest(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.dispatch(w, r, q); err != nil {
		s.writeError(w, r, err)
	}
}

func (s *Server) parseRequest(r *http.Request) (*request, error) {
	ri, ok := parseRequestInfo(r)
	if !ok {
		return nil, notFoundResource()
	}
	res, ok := s.resources[ri.Group+"/"+ri.Version+"/"+ri.Resource]
	if !ok {
		return nil, notFoundResource()
	}
	q := &request{info: ri, res: res, name: ri.Name, namespace: ri.Namespace}
	if !res.Namespaced {
		if ri.Namespace != "" && res.Resource != "namespaces" {
			return nil, notFoundResource()
		}
		q.namespace = ""
	}
	if ri.Subresource != "" {
		if _, ok := res.Subresource(ri.Subresource); !ok {
			return nil, notFoundResource()
		}
	}
	media, ok := negotiate(r.Header.Get("Accept"))
	if !ok {
		return nil, apierrors.NewGenericServerResponse(http.StatusNotAcceptable, "", schema.GroupResource{}, "",
			"only the following media types are accepted: application/json, application/yaml, application/json;as=Table;v=v1;g=meta.k8s.io", 0, false)
	}
	q.media = media
	q.strategy = s.strategy(res)
	return q, nil
}

func (s *Server) dispatch(w http.ResponseWriter, r *http.Request, q *request) error {
	if q.info.Subresource != "" {
		return s.serveSubresource(w, r, q)
	}
	if q.res.Namespaced && q.namespace == "" && q.info.Verb != "list" && (q.info.Verb != "watch" || q.name != "") {
		return notFoundResource()
	}
	switch q.info.Verb {
	case "get":
		return s.get(w, r, q)
	case "list":
		return s.list(w, r, q)
	case "watch":
		return s.watch(w, r, q)
	case "create":
		if q.name != "" {
			return apierrors.NewMethodNotSupported(q.gr(), "create")
		}
		return s.create(w, r, q)
	case "update":
		return s.update(w, r, q)
	case "patch":
		return s.patch(w, r, q)
	case "delete":
		return s.delete(w, r, q)
	case "deletecollection":
		return s.deleteCollection(w, r, q)
	}
	return apierrors.NewMethodNotSupported(q.gr(), r.Method)
}
