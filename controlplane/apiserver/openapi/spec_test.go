package openapi

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/validation/spec"

	"rudder/controlplane/catalog"
)

// servedKinds returns every kind the catalog serves: resources, their
// lists and the kinds of their object-carrying subresources.
func servedKinds() []schema.GroupVersionKind {
	var out []schema.GroupVersionKind
	for _, r := range catalog.Resources() {
		out = append(out, r.GVK(), r.GroupVersion().WithKind(r.Kind+"List"))
		for _, sub := range r.Subresources {
			if !isConnect(sub.Name) && !slices.Contains(out, sub.Kind) {
				out = append(out, sub.Kind)
			}
		}
	}
	return out
}

func TestV2DefinitionsCarryGVK(t *testing.T) {
	t.Parallel()
	s := newTestSpec(t)
	scheme := catalog.NewScheme()
	for _, gvk := range servedKinds() {
		name, err := scheme.ToOpenAPIDefinitionName(gvk)
		if err != nil {
			t.Fatal(err)
		}
		def, ok := s.V2().Definitions[name]
		if !ok {
			t.Errorf("%s: no definition %q", gvk, name)
			continue
		}
		if !extensionHasGVK(def.Extensions, gvk) {
			t.Errorf("%s: definition %q lacks it in x-kubernetes-group-version-kind: %v", gvk, name, def.Extensions)
		}
	}
	for _, name := range []string{"io.k8s.api.core.v1.Pod", "io.k8s.api.apps.v1.Deployment",
		"io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "io.k8s.apimachinery.pkg.util.intstr.IntOrString"} {
		if _, ok := s.V2().Definitions[name]; !ok {
			t.Errorf("no definition %q", name)
		}
	}
}

func extensionHasGVK(ext spec.Extensions, gvk schema.GroupVersionKind) bool {
	list, _ := ext[extensionGVK].([]any)
	for _, item := range list {
		m, _ := item.(map[string]any)
		if m["group"] == gvk.Group && m["version"] == gvk.Version && m["kind"] == gvk.Kind {
			return true
		}
	}
	return false
}

func opHasGVK(ext spec.Extensions, gvk schema.GroupVersionKind) bool {
	m, _ := ext[extensionGVK].(map[string]any)
	return m["group"] == gvk.Group && m["version"] == gvk.Version && m["kind"] == gvk.Kind
}

// v2Params resolves the operation's parameters, shared ones included.
func v2Params(sw *spec.Swagger, op *spec.Operation) map[string]spec.Parameter {
	out := map[string]spec.Parameter{}
	for _, p := range op.Parameters {
		if ref := p.Ref.String(); ref != "" {
			p = sw.Parameters[strings.TrimPrefix(ref, "#/parameters/")]
		}
		out[p.Name] = p
	}
	return out
}

var patchQueryParams = []string{"dryRun", "fieldManager", "fieldValidation", "force"}

func TestV2PatchOperations(t *testing.T) {
	t.Parallel()
	sw := newTestSpec(t).V2()
	for _, r := range catalog.Resources() {
		item := gvPath(r.GroupVersion()) + "/" + r.Resource + "/{name}"
		if r.Namespaced {
			item = gvPath(r.GroupVersion()) + "/namespaces/{namespace}/" + r.Resource + "/{name}"
		}
		op := sw.Paths.Paths[item].Patch
		if op == nil {
			t.Errorf("%s: no PATCH %s", r.GVK(), item)
			continue
		}
		if !opHasGVK(op.Extensions, r.GVK()) || op.Extensions[extensionAction] != "patch" {
			t.Errorf("%s: PATCH extensions %v", r.GVK(), op.Extensions)
		}
		ps := v2Params(sw, op)
		for _, name := range patchQueryParams {
			if ps[name].In != "query" {
				t.Errorf("%s: PATCH lacks query parameter %s", r.GVK(), name)
			}
		}
		if !slices.Equal(op.Consumes, patchMedia()) {
			t.Errorf("%s: PATCH consumes %v", r.GVK(), op.Consumes)
		}
	}
}

func TestV2Actions(t *testing.T) {
	t.Parallel()
	sw := newTestSpec(t).V2()
	actions := map[schema.GroupVersionKind][]string{}
	for _, item := range sw.Paths.Paths {
		for _, op := range []*spec.Operation{item.Get, item.Put, item.Post, item.Delete, item.Patch} {
			if op == nil || op.Extensions[extensionGVK] == nil {
				continue
			}
			m := op.Extensions[extensionGVK].(map[string]any)
			gvk := schema.GroupVersionKind{Group: m["group"].(string), Version: m["version"].(string), Kind: m["kind"].(string)}
			actions[gvk] = append(actions[gvk], op.Extensions[extensionAction].(string))
		}
	}
	want := []string{"get", "list", "post", "put", "patch", "delete", "deletecollection", "watch", "watchlist"}
	for _, r := range catalog.Resources() {
		for _, a := range want {
			if !slices.Contains(actions[r.GVK()], a) {
				t.Errorf("%s: no operation with x-kubernetes-action %q (has %v)", r.GVK(), a, actions[r.GVK()])
			}
		}
	}
}

func TestV3PatchOperations(t *testing.T) {
	t.Parallel()
	s := newTestSpec(t)
	for _, r := range catalog.Resources() {
		doc, ok := s.V3(gvPath(r.GroupVersion())[1:])
		if !ok {
			t.Fatalf("%s: no v3 document", r.GroupVersion())
		}
		if _, ok := doc.Components.Schemas[mustName(t, r.GVK())]; !ok {
			t.Errorf("%s: no schema in v3 components", r.GVK())
		}
		if !v3PatchHasParams(doc, r.GVK()) {
			t.Errorf("%s: no v3 PATCH operation with %v", r.GVK(), patchQueryParams)
		}
	}
}

func mustName(t *testing.T, gvk schema.GroupVersionKind) string {
	name, err := catalog.NewScheme().ToOpenAPIDefinitionName(gvk)
	if err != nil {
		t.Fatal(err)
	}
	return name
}

// v3PatchHasParams checks what kubectl's field validation verifier checks:
// a PATCH operation for the kind, carrying the query parameters.
func v3PatchHasParams(doc *spec3.OpenAPI, gvk schema.GroupVersionKind) bool {
	for _, p := range doc.Paths.Paths {
		if p.Patch == nil || !opHasGVK(p.Patch.Extensions, gvk) {
			continue
		}
		var names []string
		for _, param := range p.Patch.Parameters {
			if param.In == "query" {
				names = append(names, param.Name)
			}
		}
		for _, want := range patchQueryParams {
			if !slices.Contains(names, want) {
				return false
			}
		}
		return true
	}
	return false
}

func TestNewRequiresScheme(t *testing.T) {
	t.Parallel()
	if _, err := New(Config{Resources: catalog.Resources()}); err == nil {
		t.Fatal("New without a scheme succeeded")
	}
}
