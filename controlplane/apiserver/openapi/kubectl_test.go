package openapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"rudder/controlplane/catalog"
)

// requestLog records what a client asked for.
type requestLog struct {
	mu   sync.Mutex
	seen []string
}

func (l *requestLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.seen = append(l.seen, r.Method+" "+r.URL.RequestURI()+" Accept="+r.Header.Get("Accept"))
		l.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (l *requestLog) requests() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.seen...)
}

// newFakeAPIServer serves /version, legacy discovery from the catalog and
// the OpenAPI documents: what kubectl explain and client-side validation
// need.
func newFakeAPIServer(t *testing.T, s *Spec) (*httptest.Server, *requestLog) {
	t.Helper()
	mux := http.NewServeMux()
	s.Install(mux)
	mux.HandleFunc("/version", serveJSON(map[string]string{"major": "1", "minor": "33", "gitVersion": "v1.33.0",
		"platform": "linux/amd64"}))
	mux.HandleFunc("/api", serveJSON(&metav1.APIVersions{TypeMeta: metav1.TypeMeta{Kind: "APIVersions"},
		Versions: []string{"v1"}}))
	mux.HandleFunc("/apis", serveJSON(apiGroupList()))
	for _, gv := range catalog.Groups() {
		mux.HandleFunc(gvPath(gv), serveJSON(apiResourceList(gv)))
	}
	log := &requestLog{}
	srv := httptest.NewServer(log.wrap(mux))
	t.Cleanup(srv.Close)
	return srv, log
}

func serveJSON(v any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
}

func apiGroupList() *metav1.APIGroupList {
	list := &metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}}
	for _, gv := range catalog.Groups() {
		if gv.Group == "" {
			continue
		}
		v := metav1.GroupVersionForDiscovery{GroupVersion: gv.String(), Version: gv.Version}
		list.Groups = append(list.Groups, metav1.APIGroup{Name: gv.Group, Versions: []metav1.GroupVersionForDiscovery{v},
			PreferredVersion: v})
	}
	return list
}

func apiResourceList(gv schema.GroupVersion) *metav1.APIResourceList {
	list := &metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"},
		GroupVersion: gv.String()}
	for _, r := range catalog.Resources() {
		if r.GroupVersion() != gv {
			continue
		}
		list.APIResources = append(list.APIResources, metav1.APIResource{Name: r.Resource, SingularName: r.Singular,
			Namespaced: r.Namespaced, Kind: r.Kind, Verbs: r.Verbs, ShortNames: r.ShortNames, Categories: r.Categories})
		for _, sub := range r.Subresources {
			list.APIResources = append(list.APIResources, metav1.APIResource{Name: r.Resource + "/" + sub.Name,
				Namespaced: r.Namespaced, Group: sub.Kind.Group, Version: sub.Kind.Version, Kind: sub.Kind.Kind, Verbs: sub.Verbs})
		}
	}
	return list
}

// kubectlBinary finds a real kubectl of one minor version, or skips.
func kubectlBinary(t *testing.T, minor string) string {
	t.Helper()
	name := "kubectl." + minor
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	p := filepath.Join("/usr/lib/google-cloud-sdk/bin", name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s not installed", name)
	}
	return p
}

// kubectl runs one kubectl against the server with a private HOME (so no
// kubeconfig and no shared discovery cache).
func kubectl(t *testing.T, bin, server string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	home := t.TempDir()
	cmd := exec.CommandContext(ctx, bin, append(args, "--server="+server)...)
	cmd.Env = []string{"HOME=" + home, "KUBECONFIG=" + filepath.Join(home, "none"), "PATH=" + os.Getenv("PATH")}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// kubectlMinors are the kubectl releases rudder supports.
var kubectlMinors = []string{"1.27", "1.28", "1.29", "1.30", "1.31", "1.32", "1.33"}

const testDeploymentYAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx
`

// writeManifests writes a valid Deployment, and a v1 List holding a
// Deployment with an unknown field: kubectl checks a List's items against
// the v2 schema on the client, since a List cannot be validated by the
// server.
func writeManifests(t *testing.T) (deploy, badList string) {
	t.Helper()
	dir := t.TempDir()
	deploy, badList = filepath.Join(dir, "deploy.yaml"), filepath.Join(dir, "list.yaml")
	bad := strings.Replace(testDeploymentYAML, "replicas: 2", "replicas: 2\n  replicaz: 3", 1)
	list := "apiVersion: v1\nkind: List\nitems:\n- " + strings.ReplaceAll(strings.TrimSpace(bad), "\n", "\n  ") + "\n"
	for path, data := range map[string]string{deploy: testDeploymentYAML, badList: list} {
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return deploy, badList
}

// wantOutput checks that out holds every phrase, whitespace runs ignored.
func wantOutput(t *testing.T, what, out string, err error, wantErr bool, phrases ...string) {
	t.Helper()
	if (err != nil) != wantErr {
		t.Errorf("%s: err = %v, want error %v; output:\n%s", what, err, wantErr, out)
		return
	}
	flat := strings.Join(strings.Fields(out), " ")
	for _, p := range phrases {
		if !strings.Contains(flat, p) {
			t.Errorf("%s: output lacks %q:\n%s", what, p, out)
		}
	}
}

// TestKubectl runs the real kubectl 1.27-1.33 against the documents:
// explain (OpenAPI v3, and v2 with --output=plaintext-openapiv2) and
// create --validate=strict (field validation found in the v3 PATCH
// operations; the v2 protobuf schema for client-side checks).
func TestKubectl(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs kubectl")
	}
	srv, log := newFakeAPIServer(t, newTestSpec(t))
	deploy, badList := writeManifests(t)
	for _, minor := range kubectlMinors {
		bin := kubectlBinary(t, minor)
		out, err := kubectl(t, bin, srv.URL, "explain", "deployment.spec.strategy")
		wantOutput(t, minor+" explain deployment.spec.strategy", out, err, false,
			"KIND: Deployment", "FIELD: strategy <DeploymentStrategy>", "rollingUpdate <RollingUpdateDeployment>", "type <string>")
		out, err = kubectl(t, bin, srv.URL, "create", "--dry-run=client", "--validate=strict", "-f", deploy)
		wantOutput(t, minor+" create deployment", out, err, false, "deployment.apps/web created (dry run)")
		out, err = kubectl(t, bin, srv.URL, "create", "--dry-run=client", "--validate=strict", "-f", badList)
		wantOutput(t, minor+" create list with an unknown field", out, err, true,
			`unknown field "replicaz" in io.k8s.api.apps.v1.DeploymentSpec`)
	}
	out, err := kubectl(t, kubectlBinary(t, "1.30"), srv.URL, "explain", "pods.spec.containers")
	wantOutput(t, "1.30 explain pods.spec.containers", out, err, false,
		"KIND: Pod", "FIELD: containers <[]Container>", "image <string>", "name <string> -required-")
	out, err = kubectl(t, kubectlBinary(t, "1.27"), srv.URL, "explain", "deployment.spec.strategy", "--output=plaintext-openapiv2")
	wantOutput(t, "1.27 explain --output=plaintext-openapiv2", out, err, false,
		"KIND: Deployment", "RESOURCE: strategy <Object>", "rollingUpdate <Object>")
	wantRequests(t, log.requests(), "GET /openapi/v2?", "Accept="+v2ProtoAccept)
	wantRequests(t, log.requests(), "GET /openapi/v3/apis/apps/v1?hash=", "Accept=application/json")
}

func wantRequests(t *testing.T, seen []string, prefix, suffix string) {
	t.Helper()
	for _, r := range seen {
		if strings.HasPrefix(r, prefix) && strings.HasSuffix(r, suffix) {
			return
		}
	}
	t.Errorf("no request %q...%q among:\n%s", prefix, suffix, strings.Join(seen, "\n"))
}
