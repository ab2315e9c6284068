package apiserver

import (
	"net/http"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// requestInfo is what a resource URL says:
// /api/v1/namespaces/{ns}/{resource}/{name}/{subresource} and
// /apis/{group}/{version}/... .
type requestInfo struct {
	IsResource  bool
	Group       string
	Version     string
	Namespace   string
	Resource    string
	Name        string
	Subresource string
	Parts       []string // the path after the group version
	Verb        string   // get list watch create update patch delete deletecollection
}

func (ri requestInfo) GVR() schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: ri.Group, Version: ri.Version, Resource: ri.Resource}
}

// parseRequestInfo splits a resource URL; ok is false for non-resource
// paths (discovery, /version, /openapi, ...).
func parseRequestInfo(r *http.Request) (requestInfo, bool) {
	path := strings.Trim(r.URL.Path, "/")
	parts := strings.Split(path, "/")
	var ri requestInfo
	switch {
	case len(parts) >= 3 && parts[0] == "api":
		ri.Version, parts = parts[1], parts[2:]
	case len(parts) >= 4 && parts[0] == "apis":
		ri.Group, ri.Version, parts = parts[1], parts[2], parts[3:]
	default:
		return ri, false
	}
	ri.Parts = parts
	if parts[0] == "namespaces" && len(parts) > 1 {
		// /api/v1/namespaces/{name}[/status|/finalize] is the namespace
		// itself; anything else below it is a namespaced resource.
		ri.Namespace = parts[1]
		if len(parts) > 2 && parts[2] != "status" && parts[2] != "finalize" {
			parts = parts[2:]
		}
	}
	ri.IsResource = true
	ri.Resource = parts[0]
	if len(parts) > 1 {
		ri.Name = parts[1]
	}
	if len(parts) > 2 {
		ri.Subresource = parts[2]
	}
	if len(parts) > 3 {
		return ri, false
	}
	ri.Verb = verbFor(r, ri)
	return ri, true
}

func verbFor(r *http.Request, ri requestInfo) string {
	watch := r.URL.Query().Get("watch")
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if watch == "true" || watch == "1" {
			return "watch"
		}
		if ri.Name == "" {
			return "list"
		}
		return "get"
	case http.MethodPost:
		return "create"
	case http.MethodPut:
		return "update"
	case http.MethodPatch:
		return "patch"
	case http.MethodDelete:
		if ri.Name == "" {
			return "deletecollection"
		}
		return "delete"
	}
	return strings.ToLower(r.Method)
}
