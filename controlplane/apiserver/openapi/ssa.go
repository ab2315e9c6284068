package openapi

import (
	"fmt"
	"maps"
	"slices"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	endpointsopenapi "k8s.io/apiserver/pkg/endpoints/openapi"
	"k8s.io/kube-openapi/pkg/builder3"
	"k8s.io/kube-openapi/pkg/validation/spec"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// buildTypeConverter builds the converter from the OpenAPI v3 schemas of
// every kind the scheme knows, as kube-apiserver builds its own.
func buildTypeConverter(s *runtime.Scheme, namer *endpointsopenapi.DefinitionNamer, version string) (managedfields.TypeConverter, error) {
	names, err := kindModelNames(s)
	if err != nil {
		return nil, err
	}
	schemas, err := builder3.BuildOpenAPIDefinitionsForResources(v3Config(namer, version), names...)
	if err != nil {
		return nil, fmt.Errorf("definitions: %w", err)
	}
	tc, err := managedfields.NewTypeConverter(schemas, false)
	if err != nil {
		return nil, fmt.Errorf("new type converter: %w", err)
	}
	return tc, nil
}

// kindModelNames returns the definition names of the scheme's external
// kinds that have a generated definition, sorted.
func kindModelNames(s *runtime.Scheme) ([]string, error) {
	defs := GetOpenAPIDefinitions(func(string) spec.Ref { return spec.Ref{} })
	names := map[string]bool{}
	for gvk := range s.AllKnownTypes() {
		if gvk.Version == runtime.APIVersionInternal {
			continue
		}
		name, err := s.ToOpenAPIDefinitionName(gvk)
		if err != nil {
			return nil, fmt.Errorf("definition name of %s: %w", gvk, err)
		}
		if _, ok := defs[name]; ok {
			names[name] = true
		}
	}
	return slices.Sorted(maps.Keys(names)), nil
}

// FieldManager returns a server-side apply field manager for objects of kind
// gvk (their own version is the hub: rudder serves one version per group).
// subresource is "" for the main resource, or "status", "scale"... for a
// subresource endpoint; resetFields, optional, lists per version the fields
// the endpoint ignores (e.g. status on the main resource, everything but
// status on /status), as registry strategies' GetResetFields do upstream.
//
// Build one per kind and endpoint at start-up, then per request:
//
//	// PATCH with Content-Type application/apply-patch+yaml:
//	patch := &unstructured.Unstructured{} // decoded from the YAML/JSON body
//	out, err := fm.Apply(live, patch, fieldManagerParam, forceParam)
//	// a conflict is an *apierrors.StatusError with code 409 (apierrors.IsConflict)
//
//	// create, update, and JSON/merge/strategic patches, after the change is made:
//	out, err := fm.Update(live, newObj, fieldManagerParam)
//
// live is the stored object (for a create, or an apply that creates, an
// empty object of the kind with name and namespace set). Apply returns the
// merged object and Update newObj, typed like live (*appsv1.Deployment),
// with metadata.managedFields filled in. Typed objects need no TypeMeta; the
// apply patch must carry the apiVersion and kind of gvk. kube-apiserver
// requires fieldManager on apply and, on other writes, defaults it from the
// User-Agent (the part before the first "/").
func (s *Spec) FieldManager(gvk schema.GroupVersionKind, subresource string, resetFields map[fieldpath.APIVersion]fieldpath.Filter) (*managedfields.FieldManager, error) {
	fm, err := managedfields.NewDefaultFieldManager(s.typeConverter, s.scheme, s.scheme, s.scheme,
		gvk, gvk.GroupVersion(), subresource, resetFields)
	if err != nil {
		return nil, fmt.Errorf("openapi: field manager for %s: %w", gvk, err)
	}
	return fm, nil
}
