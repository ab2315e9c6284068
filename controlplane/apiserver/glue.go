package apiserver

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"

	"rudder/controlplane/apiserver/openapi"
	"rudder/controlplane/catalog"
	"rudder/controlplane/registry"
)

// openAPISpec adapts the openapi package and keeps one field manager per
// served kind, built up front.
type openAPISpec struct {
	*openapi.Spec
	managers map[managerKey]*managedfields.FieldManager
}

type managerKey struct {
	gvk         schema.GroupVersionKind
	subresource string
}

func newOpenAPI(scheme *runtime.Scheme, version string) (openAPI, error) {
	spec, err := openapi.New(openapi.Config{Resources: catalog.Resources(), Scheme: scheme, Version: version})
	if err != nil {
		return nil, err
	}
	o := &openAPISpec{Spec: spec, managers: map[managerKey]*managedfields.FieldManager{}}
	for _, r := range catalog.Resources() {
		subs := []string{""}
		if r.HasStatus() {
			subs = append(subs, "status")
		}
		for _, sub := range subs {
			fm, err := spec.FieldManager(r.GVK(), sub, nil)
			if err != nil {
				return nil, fmt.Errorf("field manager for %s: %w", r.GVK(), err)
			}
			o.managers[managerKey{r.GVK(), sub}] = fm
		}
	}
	return o, nil
}

func (o *openAPISpec) FieldManager(gvk schema.GroupVersionKind, subresource string) (*managedfields.FieldManager, error) {
	return o.managers[managerKey{gvk, subresource}], nil
}

func newServiceAllocator(cfg Config) (serviceAllocator, error) {
	if cfg.ServiceCIDR == nil {
		return nil, nil
	}
	a, err := registry.NewServiceAllocator(registry.ServiceAllocatorConfig{
		Store: cfg.Store, ServiceCIDR: cfg.ServiceCIDR,
		NodePorts: registry.PortRange{Base: cfg.NodePortBase, Size: cfg.NodePortSize},
	})
	if err != nil {
		return nil, fmt.Errorf("service allocator: %w", err)
	}
	return a, nil
}
