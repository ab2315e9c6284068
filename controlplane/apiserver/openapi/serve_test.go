package openapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	openapi_v2 "github.com/google/gnostic-models/openapiv2"
	openapi_v3 "github.com/google/gnostic-models/openapiv3"
	"google.golang.org/protobuf/proto"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"k8s.io/kube-openapi/pkg/handler3"
	"k8s.io/kube-openapi/pkg/spec3"
	kubeproto "k8s.io/kube-openapi/pkg/util/proto"

	"rudder/controlplane/catalog"
)

func newTestServer(t *testing.T, s *Spec) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	s.Install(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// get sends a GET without transparent gzip, so the test sees what the
// server sent.
func get(t *testing.T, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := &http.Client{
		Transport:     &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestServeV2(t *testing.T) {
	t.Parallel()
	s := newTestSpec(t)
	srv := newTestServer(t, s)
	resp, body := get(t, srv.URL+"/openapi/v2", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("default: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil || doc["swagger"] != "2.0" {
		t.Fatalf("json: %v, swagger %v", err, doc["swagger"])
	}
	etag := resp.Header.Get("Etag")
	resp, _ = get(t, srv.URL+"/openapi/v2", map[string]string{"If-None-Match": etag})
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match %s: %d, want 304", etag, resp.StatusCode)
	}
	resp, _ = get(t, srv.URL+"/openapi/v2", map[string]string{"Accept": "text/html"})
	if resp.StatusCode != http.StatusNotAcceptable {
		t.Errorf("Accept text/html: %d, want 406", resp.StatusCode)
	}
	resp, _ = get(t, srv.URL+"/openapi/v2", map[string]string{"Accept-Encoding": "gzip"})
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("Accept-Encoding gzip: Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}
}

func TestServeV2Protobuf(t *testing.T) {
	t.Parallel()
	s := newTestSpec(t)
	srv := newTestServer(t, s)
	// client-go's discovery.OpenAPISchema asks exactly this.
	resp, body := get(t, srv.URL+"/openapi/v2", map[string]string{"Accept": v2ProtoAccept})
	if resp.Header.Get("Content-Type") != v2ProtoType {
		t.Fatalf("Content-Type %q, want %q", resp.Header.Get("Content-Type"), v2ProtoType)
	}
	doc := &openapi_v2.Document{}
	if err := proto.Unmarshal(body, doc); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if got, want := len(doc.GetDefinitions().GetAdditionalProperties()), len(s.V2().Definitions); got != want {
		t.Errorf("protobuf has %d definitions, json %d", got, want)
	}
	checkV2Models(t, doc)
}

// checkV2Models parses the document the way kubectl's v2 code paths do.
func checkV2Models(t *testing.T, doc *openapi_v2.Document) {
	t.Helper()
	models, err := kubeproto.NewOpenAPIData(doc)
	if err != nil {
		t.Fatalf("NewOpenAPIData: %v", err)
	}
	if models.LookupModel("io.k8s.api.apps.v1.Deployment") == nil {
		t.Error("no model io.k8s.api.apps.v1.Deployment")
	}
	parser, err := managedfields.NewGVKParser(models, false)
	if err != nil {
		t.Fatalf("NewGVKParser: %v", err)
	}
	for _, r := range catalog.Resources() {
		if parser.Type(r.GVK()) == nil {
			t.Errorf("%s: no type by GVK in the v2 models", r.GVK())
		}
	}
}

func TestServeV3(t *testing.T) {
	t.Parallel()
	s := newTestSpec(t)
	srv := newTestServer(t, s)
	_, body := get(t, srv.URL+"/openapi/v3", nil)
	var index handler3.OpenAPIV3Discovery
	if err := json.Unmarshal(body, &index); err != nil {
		t.Fatal(err)
	}
	for _, gv := range catalog.Groups() {
		entry, ok := index.Paths[gvPath(gv)[1:]]
		if !ok {
			t.Errorf("index lacks %s: %s", gv, body)
			continue
		}
		checkV3Document(t, srv.URL+entry.ServerRelativeURL)
	}
	for path, want := range map[string]int{
		"/openapi/v3/apis/nope/v1":        http.StatusNotFound,
		"/openapi/v3/api/v1?hash=0123":    http.StatusMovedPermanently,
		"/openapi/v3x":                    http.StatusNotFound,
		"/openapi/v3/apis/apps/v1?hash=x": http.StatusMovedPermanently,
	} {
		if resp, _ := get(t, srv.URL+path, nil); resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
}

func checkV3Document(t *testing.T, url string) {
	t.Helper()
	resp, body := get(t, url, map[string]string{"Accept": "application/json"})
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "public, immutable" {
		t.Fatalf("GET %s: %d, Cache-Control %q", url, resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	doc := &spec3.OpenAPI{}
	if err := json.Unmarshal(body, doc); err != nil || len(doc.Components.Schemas) == 0 {
		t.Fatalf("GET %s: decode %v", url, err)
	}
	resp, _ = get(t, url, map[string]string{"If-None-Match": resp.Header.Get("Etag")})
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("GET %s with If-None-Match: %d", url, resp.StatusCode)
	}
	resp, body = get(t, url, map[string]string{"Accept": "application/com.github.proto-openapi.spec.v3@v1.0+protobuf"})
	if resp.Header.Get("Content-Type") != v3ProtoType {
		t.Fatalf("GET %s protobuf: Content-Type %q", url, resp.Header.Get("Content-Type"))
	}
	if err := proto.Unmarshal(body, &openapi_v3.Document{}); err != nil {
		t.Errorf("GET %s protobuf: %v", url, err)
	}
}

func TestServeRejectsWrites(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, newTestSpec(t))
	for _, path := range []string{"/openapi/v2", "/openapi/v3", "/openapi/v3/api/v1"} {
		resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST %s: %d", path, resp.StatusCode)
		}
	}
}

// TestClientGo reads the documents with client-go's own clients.
func TestClientGo(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, newTestSpec(t))
	dc, err := discovery.NewDiscoveryClientForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	v2, err := dc.OpenAPISchema()
	if err != nil {
		t.Fatalf("OpenAPISchema: %v", err)
	}
	checkV2Models(t, v2)
	paths, err := dc.OpenAPIV3().Paths()
	if err != nil {
		t.Fatalf("OpenAPIV3().Paths: %v", err)
	}
	gv, ok := paths["apis/apps/v1"]
	if !ok {
		t.Fatalf("no apis/apps/v1 in %v", paths)
	}
	b, err := gv.Schema("application/json")
	if err != nil {
		t.Fatalf("Schema: %v", err)
	}
	doc := &spec3.OpenAPI{}
	if err := json.Unmarshal(b, doc); err != nil {
		t.Fatal(err)
	}
	if !v3PatchHasParams(doc, appsv1.SchemeGroupVersion.WithKind("Deployment")) {
		t.Error("client-go's apps/v1 document has no PATCH with field validation for Deployment")
	}
}
