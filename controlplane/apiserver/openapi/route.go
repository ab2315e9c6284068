package openapi

import (
	"fmt"

	"k8s.io/kube-openapi/pkg/common"
)

// Media types of request and response bodies, as kube-apiserver lists them.
const (
	mediaJSON       = "application/json"
	mediaYAML       = "application/yaml"
	mediaProtobuf   = "application/vnd.kubernetes.protobuf"
	mediaJSONWatch  = "application/json;stream=watch"
	mediaProtoWatch = "application/vnd.kubernetes.protobuf;stream=watch"
	mediaAny        = "*/*"
	mediaText       = "text/plain"
	mediaJSONPatch  = "application/json-patch+json"
	mediaMergePatch = "application/merge-patch+json"
	mediaSMPatch    = "application/strategic-merge-patch+json"
	mediaApplyPatch = "application/apply-patch+yaml"
)

// Operation extensions kube-apiserver sets (kubectl finds a kind's
// operations by x-kubernetes-group-version-kind), and the one response every
// operation documents.
const (
	extensionAction  = "x-kubernetes-action"
	extensionGVK     = "x-kubernetes-group-version-kind"
	descUnauthorized = "Unauthorized"
)

func objectMedia() []string { return []string{mediaJSON, mediaYAML, mediaProtobuf} }

func streamMedia() []string {
	return []string{mediaJSON, mediaYAML, mediaProtobuf, mediaJSONWatch, mediaProtoWatch}
}

func patchMedia() []string {
	return []string{mediaJSONPatch, mediaMergePatch, mediaSMPatch, mediaApplyPatch}
}

// response is one status code's response; it implements
// common.StatusCodeResponse. model is a sample value of the returned type:
// its OpenAPIModelName (or Go type, for strings) names the schema.
type response struct {
	code  int
	msg   string
	model any
}

var _ common.StatusCodeResponse = response{}

func (r response) Code() int       { return r.code }
func (r response) Message() string { return r.msg }
func (r response) Model() any      { return r.model }

// route is one operation on one path; it implements common.Route, the
// interface kube-openapi's builders read paths from.
type route struct {
	method    string
	path      string
	id        string // operation id, e.g. patchAppsV1NamespacedDeployment
	tag       string // e.g. apps_v1
	desc      string
	params    []common.Parameter
	consumes  []string
	produces  []string
	meta      map[string]any
	body      any // sample request body, nil if none
	responses []common.StatusCodeResponse
}

var _ common.Route = (*route)(nil)

func (r *route) Method() string                                   { return r.method }
func (r *route) Path() string                                     { return r.path }
func (r *route) OperationName() string                            { return r.id }
func (r *route) Parameters() []common.Parameter                   { return r.params }
func (r *route) Description() string                              { return r.desc }
func (r *route) Consumes() []string                               { return r.consumes }
func (r *route) Produces() []string                               { return r.produces }
func (r *route) Metadata() map[string]any                         { return r.meta }
func (r *route) RequestPayloadSample() any                        { return r.body }
func (r *route) ResponsePayloadSample() any                       { return nil }
func (r *route) StatusCodeResponses() []common.StatusCodeResponse { return r.responses }

// operationIDAndTags gives the builders the id and tag a route carries.
func operationIDAndTags(r common.Route) (string, []string, error) {
	rt, ok := r.(*route)
	if !ok {
		return "", nil, fmt.Errorf("openapi: route %T is not built by this package", r)
	}
	return rt.id, []string{rt.tag}, nil
}

// container holds the routes of one group version; it implements
// common.RouteContainer.
type container struct {
	root   string // "/api/v1", "/apis/apps/v1"
	routes []common.Route
}

var _ common.RouteContainer = (*container)(nil)

func (c *container) RootPath() string                   { return c.root }
func (c *container) PathParameters() []common.Parameter { return nil }
func (c *container) Routes() []common.Route             { return c.routes }
