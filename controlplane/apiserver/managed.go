package apiserver

import (
	"encoding/json"
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"sigs.k8s.io/yaml"
)

// openAPI is what the server needs of the OpenAPI package: the documents
// and, built from the same schemas, field managers for server-side apply.
type openAPI interface {
	ServeV2(http.ResponseWriter, *http.Request)
	ServeV3(http.ResponseWriter, *http.Request)
	FieldManager(gvk schema.GroupVersionKind, subresource string) (*managedfields.FieldManager, error)
}

// managerFromUserAgent is upstream's default field manager: the user
// agent up to its first '/'.
func managerFromUserAgent(r *http.Request) string {
	ua, _, _ := strings.Cut(r.UserAgent(), "/")
	if ua == "" {
		return "unknown"
	}
	return ua
}

// trackCreate records the creating manager's fields in managedFields.
func (s *Server) trackCreate(q *request, obj runtime.Object, manager string) error {
	live, err := s.scheme.New(q.res.GVK())
	if err != nil {
		return err
	}
	return s.trackUpdate(q, live, obj, manager)
}

// trackUpdate records the updating manager's fields in managedFields.
func (s *Server) trackUpdate(q *request, old, obj runtime.Object, manager string) error {
	fm, err := s.openapi.FieldManager(q.res.GVK(), q.info.Subresource)
	if err != nil || fm == nil {
		return err
	}
	out := fm.UpdateNoErrors(old, obj, manager)
	outAcc, err := meta.Accessor(out)
	if err != nil {
		return err
	}
	acc, _ := meta.Accessor(obj)
	acc.SetManagedFields(outAcc.GetManagedFields())
	return nil
}

// applyConfig decodes an apply patch body into an unstructured object and
// checks it names the right kind and object.
func applyConfig(q *request, body []byte) (*unstructured.Unstructured, error) {
	j, err := yaml.YAMLToJSONStrict(body)
	if err != nil {
		return nil, badRequest("error decoding YAML: %v", err)
	}
	u := &unstructured.Unstructured{}
	if err := json.Unmarshal(j, &u.Object); err != nil {
		return nil, badRequest("error decoding apply patch: %v", err)
	}
	gvk := q.res.GVK()
	if u.GetAPIVersion() != gvk.GroupVersion().String() || u.GetKind() != gvk.Kind {
		return nil, badRequest("the API version in the data (%s) does not match the expected API version (%s)", u.GetAPIVersion(), gvk.GroupVersion())
	}
	if u.GetName() != "" && u.GetName() != q.name {
		return nil, badRequest("the name of the object (%s) does not match the name on the URL (%s)", u.GetName(), q.name)
	}
	return u, nil
}

// applyPatch runs server-side apply on the live object.
func (s *Server) applyPatch(q *request, live runtime.Object, p *patchRequest) (runtime.Object, []string, error) {
	cfg, err := applyConfig(q, p.body)
	if err != nil {
		return nil, nil, err
	}
	fm, err := s.openapi.FieldManager(q.res.GVK(), q.info.Subresource)
	if err != nil {
		return nil, nil, err
	}
	out, err := fm.Apply(live, cfg, p.opts.fieldManager, p.force)
	if err != nil {
		if _, ok := err.(apierrors.APIStatus); ok {
			return nil, nil, err
		}
		return nil, nil, badRequest("%v", err)
	}
	return out, nil, nil
}
