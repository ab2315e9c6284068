package openapi

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/managedfields"
	endpointsopenapi "k8s.io/apiserver/pkg/endpoints/openapi"
	"k8s.io/kube-openapi/pkg/builder"
	"k8s.io/kube-openapi/pkg/builder3"
	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/validation/spec"

	"rudder/controlplane/catalog"
)

// Config says what New documents.
type Config struct {
	// Resources are the served resources, usually catalog.Resources().
	Resources []catalog.Resource
	// Scheme knows the Go types of the resources, their lists and
	// subresource kinds, usually catalog.NewScheme().
	Scheme *runtime.Scheme
	// Version is the Kubernetes version the documents claim in info.version,
	// e.g. "v1.33.0".
	Version string
}

// Spec holds the OpenAPI documents, built once by New, in the forms they are
// served in, and the type converter server-side apply uses. It is immutable
// and safe for concurrent use.
type Spec struct {
	scheme        *runtime.Scheme
	v2            *spec.Swagger
	v3            map[string]*spec3.OpenAPI // by "api/v1", "apis/apps/v1"
	v2Doc         *document
	v3Docs        map[string]*document
	v3Index       *document
	typeConverter managedfields.TypeConverter
}

// New builds the OpenAPI v2 document, one OpenAPI v3 document per group
// version, their JSON and protobuf encodings and the server-side apply type
// converter.
func New(cfg Config) (*Spec, error) {
	if cfg.Scheme == nil {
		return nil, errors.New("openapi: Config.Scheme is required")
	}
	if cfg.Version == "" {
		cfg.Version = "unversioned"
	}
	containers, err := groupContainers(cfg.Resources, cfg.Scheme)
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	namer := endpointsopenapi.NewDefinitionNamer(cfg.Scheme)
	s := &Spec{scheme: cfg.Scheme}
	if s.v2, err = buildV2(containers, namer, cfg.Version); err != nil {
		return nil, fmt.Errorf("openapi: v2: %w", err)
	}
	if s.v3, err = buildV3(containers, namer, cfg.Version); err != nil {
		return nil, fmt.Errorf("openapi: v3: %w", err)
	}
	if s.typeConverter, err = buildTypeConverter(cfg.Scheme, namer, cfg.Version); err != nil {
		return nil, fmt.Errorf("openapi: type converter: %w", err)
	}
	if err := s.encode(time.Now()); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	return s, nil
}

// V2 returns the swagger 2.0 document. It is shared: do not modify it.
func (s *Spec) V2() *spec.Swagger { return s.v2 }

// V3 returns the OpenAPI v3 document of a group version path ("api/v1",
// "apis/apps/v1"). It is shared: do not modify it.
func (s *Spec) V3(gvPath string) (*spec3.OpenAPI, bool) {
	doc, ok := s.v3[gvPath]
	return doc, ok
}

// V3Paths returns the group version paths with a v3 document, sorted.
func (s *Spec) V3Paths() []string { return slices.Sorted(maps.Keys(s.v3)) }

// TypeConverter converts objects of every served kind (and the meta and
// subresource kinds of the scheme) to structured-merge-diff typed values.
func (s *Spec) TypeConverter() managedfields.TypeConverter { return s.typeConverter }

func info(version string) *spec.Info {
	return &spec.Info{InfoProps: spec.InfoProps{Title: "Kubernetes", Version: version}}
}

func buildV2(containers []*container, namer *endpointsopenapi.DefinitionNamer, version string) (*spec.Swagger, error) {
	cfg := &common.Config{
		ProtocolList:                   []string{"https"},
		Info:                           info(version),
		GetDefinitions:                 GetOpenAPIDefinitions,
		GetDefinitionName:              namer.GetDefinitionName,
		GetOperationIDAndTagsFromRoute: operationIDAndTags,
		CommonResponses:                map[int]spec.Response{401: {ResponseProps: spec.ResponseProps{Description: descUnauthorized}}},
		SecurityDefinitions: &spec.SecurityDefinitions{"BearerToken": &spec.SecurityScheme{
			SecuritySchemeProps: spec.SecuritySchemeProps{
				Type: "apiKey", Name: "authorization", In: "header",
				Description: "Bearer Token authentication",
			},
		}},
		DefaultSecurity: []map[string][]string{{"BearerToken": {}}},
	}
	return builder.BuildOpenAPISpecFromRoutes(routeContainers(containers...), cfg)
}

func v3Config(namer *endpointsopenapi.DefinitionNamer, version string) *common.OpenAPIV3Config {
	return &common.OpenAPIV3Config{
		Info:                           info(version),
		GetDefinitions:                 GetOpenAPIDefinitions,
		GetDefinitionName:              namer.GetDefinitionName,
		GetOperationIDAndTagsFromRoute: operationIDAndTags,
		CommonResponses: map[int]*spec3.Response{401: {ResponseProps: spec3.ResponseProps{
			Description: descUnauthorized,
		}}},
		SecuritySchemes: spec3.SecuritySchemes{"BearerToken": &spec3.SecurityScheme{
			SecuritySchemeProps: spec3.SecuritySchemeProps{
				Type: "apiKey", Name: "authorization", In: "header",
				Description: "Bearer Token authentication",
			},
		}},
		DefaultSecurity: []map[string][]string{{"BearerToken": {}}},
	}
}

// buildV3 builds one document per group version, keyed like kube-apiserver's
// /openapi/v3 index: "api/v1", "apis/apps/v1".
func buildV3(containers []*container, namer *endpointsopenapi.DefinitionNamer, version string) (map[string]*spec3.OpenAPI, error) {
	out := make(map[string]*spec3.OpenAPI, len(containers))
	for _, c := range containers {
		doc, err := builder3.BuildOpenAPISpecFromRoutes(routeContainers(c), v3Config(namer, version))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.root, err)
		}
		doc.SecurityRequirement = []map[string][]string{{"BearerToken": {}}}
		out[c.root[1:]] = doc
	}
	return out, nil
}

func routeContainers(cs ...*container) []common.RouteContainer {
	out := make([]common.RouteContainer, len(cs))
	for i, c := range cs {
		out[i] = c
	}
	return out
}
