package apiserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/apimachinery/pkg/runtime/serializer/streaming"
	"k8s.io/apimachinery/pkg/version"

	"rudder/controlplane/apiserver/authn"
	"rudder/controlplane/catalog"
	"rudder/controlplane/storage"
	"rudder/controlplane/storage/bolt"
)

const testToken = "test-token"

// testServer is an apiserver over bbolt in a temp dir, behind httptest.
type testServer struct {
	t     testing.TB
	srv   *httptest.Server
	api   *Server
	store storage.Store
}

func newTestServer(t testing.TB) *testServer {
	t.Helper()
	store, err := bolt.Open(bolt.Config{Path: filepath.Join(t.TempDir(), "state.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	_, svcNet, _ := net.ParseCIDR("10.96.0.0/12")
	api, err := New(Config{
		Store:         store,
		Authenticator: &authn.Authenticator{Tokens: authn.Tokens{testToken: {Name: "tester", Groups: []string{"system:masters"}}}},
		ServiceCIDR:   svcNet, NodePortBase: 30000, NodePortSize: 2768,
		AdvertiseAddress: net.IPv4(127, 0, 0, 1), Port: 6443,
		Version:               version.Info{Major: "1", Minor: "33", GitVersion: "v1.33.0+rudder"},
		WatchBookmarkInterval: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := api.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	return &testServer{t: t, srv: srv, api: api, store: store}
}

// do sends a request and returns the status code and body.
func (ts *testServer) do(method, path, contentType, body string, hdr ...string) (int, string) {
	ts.t.Helper()
	req, err := http.NewRequest(method, ts.srv.URL+path, strings.NewReader(body))
	if err != nil {
		ts.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (ts *testServer) mustDo(wantCode int, method, path, contentType, body string) string {
	ts.t.Helper()
	code, out := ts.do(method, path, contentType, body)
	if code != wantCode {
		ts.t.Fatalf("%s %s: got %d, want %d: %s", method, path, code, wantCode, out)
	}
	return out
}

func status(t *testing.T, body string) metav1.Status {
	t.Helper()
	var st metav1.Status
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("not a Status: %v: %s", err, body)
	}
	return st
}

const cmJSON = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"%s"},"data":{"a":"b"}}`

func cm(name string) string { return strings.Replace(cmJSON, "%s", name, 1) }

func TestUnauthenticated(t *testing.T) {
	ts := newTestServer(t)
	resp, err := http.Get(ts.srv.URL + "/api/v1/namespaces")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no credentials: got %d, want 401", resp.StatusCode)
	}
	for _, p := range []string{"/healthz", "/readyz", "/livez", "/version"} {
		resp, err := http.Get(ts.srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: got %d, want 200 without credentials", p, resp.StatusCode)
		}
	}
}

func TestBadInput(t *testing.T) {
	ts := newTestServer(t)
	const cms = "/api/v1/namespaces/default/configmaps"
	big := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},"data":{"a":"` + strings.Repeat("x", 4<<20) + `"}}`
	cases := []struct {
		name, method, path, ct, body string
		code                         int
		reason                       metav1.StatusReason
		msg                          string
	}{
		{"malformed json", "POST", cms, "application/json", `{"apiVersion":`, 400, metav1.StatusReasonBadRequest, ""},
		{"too large", "POST", cms, "application/json", big, 413, metav1.StatusReasonRequestEntityTooLarge, ""},
		{"unknown resource", "GET", "/api/v1/frobs", "", "", 404, metav1.StatusReasonNotFound, ""},
		{"unknown group", "GET", "/apis/nope.io/v1/things", "", "", 404, metav1.StatusReasonNotFound, ""},
		{"wrong apiVersion", "POST", cms, "application/json", `{"apiVersion":"apps/v1","kind":"ConfigMap","metadata":{"name":"x"}}`, 400, metav1.StatusReasonBadRequest, "does not match the expected API version"},
		{"wrong kind", "POST", cms, "application/json", `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x"}}`, 400, metav1.StatusReasonBadRequest, "does not match the expected kind"},
		{"namespace mismatch", "POST", cms, "application/json", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","namespace":"kube-system"}}`, 400, metav1.StatusReasonBadRequest, "does not match the namespace"},
		{"strict unknown field", "POST", cms + "?fieldValidation=Strict", "application/json", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"bogus":1}`, 400, metav1.StatusReasonBadRequest, `unknown field "bogus"`},
		{"missing namespace", "POST", "/api/v1/namespaces/nope/configmaps", "application/json", cm("x"), 404, metav1.StatusReasonNotFound, `namespaces "nope" not found`},
		{"not found", "GET", cms + "/nope", "", "", 404, metav1.StatusReasonNotFound, `configmaps "nope" not found`},
		{"bad label selector", "GET", cms + "?labelSelector=a%20in%20(", "", "", 400, metav1.StatusReasonBadRequest, ""},
		{"unsupported field selector", "GET", cms + "?fieldSelector=spec.nodeName%3Dx", "", "", 400, metav1.StatusReasonBadRequest, "field label not supported"},
		{"bad patch type", "PATCH", cms + "/x", "text/plain", "{}", 415, metav1.StatusReasonUnsupportedMediaType, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := ts.do(c.method, c.path, c.ct, c.body)
			if code != c.code {
				t.Fatalf("got %d, want %d: %.300s", code, c.code, body)
			}
			st := status(t, body)
			if st.Kind != "Status" || st.Reason != c.reason || int(st.Code) != c.code {
				t.Fatalf("status %+v, want reason %s code %d", st, c.reason, c.code)
			}
			if !strings.Contains(st.Message, c.msg) {
				t.Fatalf("message %q lacks %q", st.Message, c.msg)
			}
		})
	}
}

func TestCreateGetUpdateConflict(t *testing.T) {
	ts := newTestServer(t)
	const cms = "/api/v1/namespaces/default/configmaps"
	out := ts.mustDo(201, "POST", cms, "application/json", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"gen-"}}`)
	var created map[string]any
	_ = json.Unmarshal([]byte(out), &created)
	md := created["metadata"].(map[string]any)
	if name := md["name"].(string); !strings.HasPrefix(name, "gen-") || len(name) != len("gen-")+5 {
		t.Fatalf("generateName gave %q", name)
	}
	for _, f := range []string{"uid", "creationTimestamp", "resourceVersion"} {
		if md[f] == nil || md[f] == "" {
			t.Fatalf("create did not set metadata.%s: %v", f, md)
		}
	}
	ts.mustDo(201, "POST", cms, "application/json", cm("a"))
	code, body := ts.do("POST", cms, "application/json", cm("a"))
	if code != 409 || status(t, body).Reason != metav1.StatusReasonAlreadyExists {
		t.Fatalf("duplicate create: %d %s", code, body)
	}
	stale := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","resourceVersion":"1"},"data":{"a":"c"}}`
	code, body = ts.do("PUT", cms+"/a", "application/json", stale)
	if code != 409 || status(t, body).Reason != metav1.StatusReasonConflict {
		t.Fatalf("stale update: %d %s", code, body)
	}
	ts.mustDo(200, "PUT", cms+"/a", "application/json", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"data":{"a":"c"}}`)
	if got := ts.mustDo(200, "GET", cms+"/a", "", ""); !strings.Contains(got, `"a":"c"`) {
		t.Fatalf("update lost: %s", got)
	}
	code, body = ts.do("PUT", cms+"/other", "application/json", cm("a"))
	if code != 400 || !strings.Contains(body, "does not match the name on the URL") {
		t.Fatalf("name mismatch: %d %s", code, body)
	}
}

func TestListPaging(t *testing.T) {
	ts := newTestServer(t)
	const cms = "/api/v1/namespaces/default/configmaps"
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		ts.mustDo(201, "POST", cms, "application/json", cm(n))
	}
	var names []string
	cont := ""
	for pages := 0; pages < 10; pages++ {
		out := ts.mustDo(200, "GET", cms+"?limit=2&continue="+cont, "", "")
		var l struct {
			Metadata metav1.ListMeta
			Items    []struct{ Metadata metav1.ObjectMeta }
		}
		if err := json.Unmarshal([]byte(out), &l); err != nil {
			t.Fatal(err)
		}
		for _, it := range l.Items {
			names = append(names, it.Metadata.Name)
		}
		if cont = l.Metadata.Continue; cont == "" {
			break
		}
	}
	if strings.Join(names, ",") != "a,b,c,d,e" {
		t.Fatalf("paged list gave %v", names)
	}
}

// readEvents reads watch events from a streaming response.
func readEvents(t *testing.T, body io.Reader, n int) []map[string]any {
	t.Helper()
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var evs []map[string]any
	for len(evs) < n && sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("bad event %q: %v", sc.Text(), err)
		}
		evs = append(evs, ev)
	}
	if len(evs) < n {
		t.Fatalf("got %d events, want %d (%v)", len(evs), n, sc.Err())
	}
	return evs
}

func (ts *testServer) stream(path string) io.ReadCloser {
	ts.t.Helper()
	req, _ := http.NewRequest("GET", ts.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		ts.t.Fatalf("watch %s: %d %s", path, resp.StatusCode, b)
	}
	ts.t.Cleanup(func() { resp.Body.Close() })
	return resp.Body
}

func TestWatchSelectorTransitions(t *testing.T) {
	ts := newTestServer(t)
	const cms = "/api/v1/namespaces/default/configmaps"
	out := ts.mustDo(201, "POST", cms, "application/json", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"w","labels":{"sel":"no"}}}`)
	var obj struct{ Metadata metav1.ObjectMeta }
	_ = json.Unmarshal([]byte(out), &obj)
	body := ts.stream(cms + "?watch=true&labelSelector=sel%3Dyes&resourceVersion=" + obj.Metadata.ResourceVersion)
	patch := func(v string) {
		ts.mustDo(200, "PATCH", cms+"/w", "application/merge-patch+json", `{"metadata":{"labels":{"sel":"`+v+`"}}}`)
	}
	patch("yes")                                                                            // enters the selection: ADDED
	patch("yes")                                                                            // no-op patch writes nothing
	ts.mustDo(200, "PATCH", cms+"/w", "application/merge-patch+json", `{"data":{"k":"v"}}`) // MODIFIED
	patch("no")                                                                             // leaves: DELETED
	evs := readEvents(t, body, 3)
	got := []string{evs[0]["type"].(string), evs[1]["type"].(string), evs[2]["type"].(string)}
	if strings.Join(got, ",") != "ADDED,MODIFIED,DELETED" {
		t.Fatalf("events %v, want ADDED,MODIFIED,DELETED", got)
	}
}

func TestWatchSingleObjectPath(t *testing.T) {
	ts := newTestServer(t)
	const cms = "/api/v1/namespaces/default/configmaps"
	ts.mustDo(201, "POST", cms, "application/json", cm("other"))
	ts.mustDo(201, "POST", cms, "application/json", cm("mine"))
	evs := readEvents(t, ts.stream(cms+"/mine?watch=true"), 1)
	if name := evs[0]["object"].(map[string]any)["metadata"].(map[string]any)["name"]; name != "mine" {
		t.Fatalf("watch on .../configmaps/mine saw %v", name)
	}
}

func TestWatchInitialEventsAndBookmarks(t *testing.T) {
	ts := newTestServer(t)
	const cms = "/api/v1/namespaces/default/configmaps"
	ts.mustDo(201, "POST", cms, "application/json", cm("one"))
	body := ts.stream(cms + "?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan")
	evs := readEvents(t, body, 2)
	if evs[0]["type"] != "ADDED" || evs[1]["type"] != "BOOKMARK" {
		t.Fatalf("want ADDED then BOOKMARK, got %v, %v", evs[0]["type"], evs[1]["type"])
	}
	md := evs[1]["object"].(map[string]any)["metadata"].(map[string]any)
	if md["annotations"].(map[string]any)[metav1.InitialEventsAnnotationKey] != "true" {
		t.Fatalf("bookmark lacks the initial-events-end annotation: %v", md)
	}
	if evs = readEvents(t, body, 1); evs[0]["type"] != "BOOKMARK" {
		t.Fatalf("want a periodic BOOKMARK, got %v", evs[0]["type"])
	}
}

func TestWatchCompacted410(t *testing.T) {
	ts := newTestServer(t)
	const cms = "/api/v1/namespaces/default/configmaps"
	for _, n := range []string{"a", "b", "c"} {
		ts.mustDo(201, "POST", cms, "application/json", cm(n))
	}
	rev, _ := ts.store.Revision(context.Background())
	if err := ts.store.Compact(context.Background(), rev-1); err != nil {
		t.Fatal(err)
	}
	code, body := ts.do("GET", cms+"?watch=true&resourceVersion=1", "", "")
	if code != 410 || status(t, body).Reason != metav1.StatusReasonExpired {
		t.Fatalf("watch from compacted revision: %d %s", code, body)
	}
}

func TestFinalizersAndGracefulPodDelete(t *testing.T) {
	ts := newTestServer(t)
	const cms = "/api/v1/namespaces/default/configmaps"
	ts.mustDo(201, "POST", cms, "application/json", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"f","finalizers":["example.com/hold"]}}`)
	ts.mustDo(200, "DELETE", cms+"/f", "", "")
	got := ts.mustDo(200, "GET", cms+"/f", "", "")
	if !strings.Contains(got, "deletionTimestamp") {
		t.Fatalf("finalized object lacks deletionTimestamp: %s", got)
	}
	ts.mustDo(200, "PATCH", cms+"/f", "application/merge-patch+json", `{"metadata":{"finalizers":null}}`)
	ts.mustDo(404, "GET", cms+"/f", "", "")

	const pods = "/api/v1/namespaces/default/pods"
	pod := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"nodeName":"n1","containers":[{"name":"c","image":"busybox"}]}}`
	ts.mustDo(201, "POST", pods, "application/json", pod)
	ts.mustDo(200, "DELETE", pods+"/p", "", "")
	got = ts.mustDo(200, "GET", pods+"/p", "", "")
	if !strings.Contains(got, `"deletionGracePeriodSeconds":30`) {
		t.Fatalf("scheduled pod not in graceful deletion: %s", got)
	}
	ts.mustDo(200, "DELETE", pods+"/p?gracePeriodSeconds=0", "", "")
	ts.mustDo(404, "GET", pods+"/p", "", "")
}

func TestDiscovery(t *testing.T) {
	ts := newTestServer(t)
	code, body := ts.do("GET", "/apis", "", "", "Accept", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json")
	if code != 200 || !strings.Contains(body, `"kind":"APIGroupDiscoveryList"`) || !strings.Contains(body, `"resource":"deployments"`) {
		t.Fatalf("aggregated discovery: %d %.300s", code, body)
	}
	body = ts.mustDo(200, "GET", "/api/v1", "", "")
	for _, want := range []string{`"name":"pods"`, `"name":"pods/log"`, `"name":"pods/eviction"`, `"group":"policy"`} {
		if !strings.Contains(body, want) {
			t.Fatalf("/api/v1 lacks %s", want)
		}
	}
	body = ts.mustDo(200, "GET", "/apis/apps/v1", "", "")
	if !strings.Contains(body, `"name":"deployments/scale"`) || !strings.Contains(body, `"kind":"Scale"`) {
		t.Fatalf("/apis/apps/v1 lacks scale: %.300s", body)
	}
}

func TestStatusSubresourceTouchesOnlyStatus(t *testing.T) {
	ts := newTestServer(t)
	const deps = "/apis/apps/v1/namespaces/default/deployments"
	d := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":1,"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i"}]}}},"status":{"replicas":7}}`
	out := ts.mustDo(201, "POST", deps, "application/json", d)
	if strings.Contains(out, `"replicas":7`) {
		t.Fatalf("create kept client-set status: %s", out)
	}
	// A status patch changes status, not spec.
	out = ts.mustDo(200, "PATCH", deps+"/d/status", "application/merge-patch+json", `{"spec":{"replicas":5},"status":{"replicas":3}}`)
	var got struct {
		Metadata metav1.ObjectMeta
		Spec     struct{ Replicas int }
		Status   struct{ Replicas int }
	}
	_ = json.Unmarshal([]byte(out), &got)
	if got.Spec.Replicas != 1 || got.Status.Replicas != 3 || got.Metadata.Generation != 1 {
		t.Fatalf("status patch: spec %d status %d generation %d; want 1, 3, 1", got.Spec.Replicas, got.Status.Replicas, got.Metadata.Generation)
	}
	// A main-resource patch changes spec, bumps generation, keeps status.
	out = ts.mustDo(200, "PATCH", deps+"/d", "application/merge-patch+json", `{"spec":{"replicas":4},"status":{"replicas":9}}`)
	_ = json.Unmarshal([]byte(out), &got)
	if got.Spec.Replicas != 4 || got.Status.Replicas != 3 || got.Metadata.Generation != 2 {
		t.Fatalf("main patch: spec %d status %d generation %d; want 4, 3, 2", got.Spec.Replicas, got.Status.Replicas, got.Metadata.Generation)
	}
}

func TestDeleteCollection(t *testing.T) {
	ts := newTestServer(t)
	const cms = "/api/v1/namespaces/default/configmaps"
	for _, n := range []string{"a", "b", "c"} {
		ts.mustDo(201, "POST", cms, "application/json", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"`+n+`","labels":{"drop":"`+map[string]string{"a": "yes", "b": "yes", "c": "no"}[n]+`"}}}`)
	}
	ts.mustDo(200, "DELETE", cms+"?labelSelector=drop%3Dyes", "", "")
	out := ts.mustDo(200, "GET", cms, "", "")
	if strings.Contains(out, `"name":"a"`) || strings.Contains(out, `"name":"b"`) || !strings.Contains(out, `"name":"c"`) {
		t.Fatalf("deletecollection by label: %s", out)
	}
}

// TestServiceAllocationSurvivesRestart: cluster IPs and node ports stay
// allocated across a server restart, are refused when taken, and come
// back on delete and on type change.
func TestServiceAllocationSurvivesRestart(t *testing.T) {
	ts := newTestServer(t)
	const svcs = "/api/v1/namespaces/default/services"
	np := func(name, ip string, port int) string {
		return fmt.Sprintf(`{"apiVersion":"v1","kind":"Service","metadata":{"name":%q},"spec":{"type":"NodePort","clusterIP":%q,"ports":[{"port":80,"nodePort":%d}]}}`, name, ip, port)
	}
	ts.mustDo(201, "POST", svcs, "application/json", np("a", "10.96.5.5", 30080))
	restarted := ts.restart()
	code, body := restarted.do("POST", svcs, "application/json", np("b", "10.96.5.5", 30081))
	if code != 422 || !strings.Contains(body, "provided IP is already allocated") {
		t.Fatalf("taken cluster IP after restart: %d %s", code, body)
	}
	code, body = restarted.do("POST", svcs, "application/json", np("b", "", 30080))
	if code != 422 || !strings.Contains(body, "provided port is already allocated") {
		t.Fatalf("taken node port after restart: %d %s", code, body)
	}
	// Type change to ClusterIP releases the node port.
	restarted.mustDo(200, "PATCH", svcs+"/a", "application/merge-patch+json", `{"spec":{"type":"ClusterIP","ports":[{"port":80,"nodePort":null}]}}`)
	restarted.mustDo(201, "POST", svcs, "application/json", np("b", "", 30080))
	// Delete releases the cluster IP.
	restarted.mustDo(200, "DELETE", svcs+"/a", "", "")
	restarted.mustDo(201, "POST", svcs, "application/json", np("c", "10.96.5.5", 30082))
}

// restart builds a second server over the same store, as a process
// restart would.
func (ts *testServer) restart() *testServer {
	ts.t.Helper()
	_, svcNet, _ := net.ParseCIDR("10.96.0.0/12")
	api, err := New(Config{
		Store:         ts.store,
		Authenticator: &authn.Authenticator{Tokens: authn.Tokens{testToken: {Name: "tester"}}},
		ServiceCIDR:   svcNet, NodePortBase: 30000, NodePortSize: 2768,
		AdvertiseAddress: net.IPv4(127, 0, 0, 1), Port: 6443,
	})
	if err != nil {
		ts.t.Fatal(err)
	}
	if err := api.Bootstrap(context.Background()); err != nil {
		ts.t.Fatal(err)
	}
	srv := httptest.NewServer(api.Handler())
	ts.t.Cleanup(srv.Close)
	return &testServer{t: ts.t, srv: srv, api: api, store: ts.store}
}

func TestTableAndPartialMetadata(t *testing.T) {
	ts := newTestServer(t)
	code, body := ts.do("GET", "/api/v1/namespaces", "", "", "Accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json")
	if code != 200 || !strings.Contains(body, `"kind":"Table"`) || !strings.Contains(body, `"name":"Status"`) {
		t.Fatalf("table: %d %.300s", code, body)
	}
	code, body = ts.do("GET", "/api/v1/namespaces", "", "", "Accept", "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io")
	if code != 200 || !strings.Contains(body, `"kind":"PartialObjectMetadataList"`) || strings.Contains(body, `"spec"`) {
		t.Fatalf("partial metadata: %d %.300s", code, body)
	}
	if !strings.Contains(body, `"creationTimestamp"`) || !strings.Contains(body, `"finalizers":["kubernetes"]`) && !strings.Contains(body, `"uid"`) {
		t.Fatalf("partial metadata lost fields: %.400s", body)
	}
	ts.mustDo(201, "POST", "/api/v1/namespaces/default/configmaps", "application/json",
		`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"owned","finalizers":["x.io/f"],"ownerReferences":[{"apiVersion":"v1","kind":"ConfigMap","name":"o","uid":"u1"}]}}`)
	_, body = ts.do("GET", "/api/v1/namespaces/default/configmaps/owned", "", "", "Accept", "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io")
	if !strings.Contains(body, `"ownerReferences"`) || !strings.Contains(body, `"x.io/f"`) {
		t.Fatalf("partial metadata lost owner references or finalizers: %s", body)
	}
	code, _ = ts.do("GET", "/api/v1/namespaces", "", "", "Accept", "application/xml")
	if code != 406 {
		t.Fatalf("unacceptable media type: %d, want 406", code)
	}
}

func TestOrphanAndForegroundDeletion(t *testing.T) {
	ts := newTestServer(t)
	const cms = "/api/v1/namespaces/default/configmaps"
	owner := func(name string) string {
		out := ts.mustDo(201, "POST", cms, "application/json", cm(name))
		var o struct{ Metadata metav1.ObjectMeta }
		_ = json.Unmarshal([]byte(out), &o)
		return string(o.Metadata.UID)
	}
	dependent := func(name, ownerName, uid string) {
		ts.mustDo(201, "POST", cms, "application/json", fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":%q,"ownerReferences":[{"apiVersion":"v1","kind":"ConfigMap","name":%q,"uid":%q}]}}`, name, ownerName, uid))
	}
	dependent("orphaned", "o1", owner("o1"))
	ts.mustDo(200, "DELETE", cms+"/o1?propagationPolicy=Orphan", "", "")
	dependent("deleted", "o2", owner("o2"))
	ts.mustDo(200, "DELETE", cms+"/o2?propagationPolicy=Foreground", "", "")
	eventually(t, func() bool {
		c1, _ := ts.do("GET", cms+"/o1", "", "")
		c2, _ := ts.do("GET", cms+"/o2", "", "")
		c3, _ := ts.do("GET", cms+"/deleted", "", "")
		return c1 == 404 && c2 == 404 && c3 == 404
	})
	if out := ts.mustDo(200, "GET", cms+"/orphaned", "", ""); strings.Contains(out, "ownerReferences") {
		t.Fatalf("orphaned dependent still has its owner reference: %s", out)
	}
}

func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met within 10s")
}

// TestProtobuf: client-go's default encoding works both ways, for objects
// and for watch streams.
func TestProtobuf(t *testing.T) {
	ts := newTestServer(t)
	pb := protobuf.NewSerializer(ts.api.scheme, ts.api.scheme)
	var body bytes.Buffer
	cmObj := &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}, ObjectMeta: metav1.ObjectMeta{Name: "pb"}, Data: map[string]string{"k": "v"}}
	if err := pb.Encode(cmObj, &body); err != nil {
		t.Fatal(err)
	}
	code, out := ts.do("POST", "/api/v1/namespaces/default/configmaps", protobufType, body.String(), "Accept", protobufType)
	if code != 201 {
		t.Fatalf("protobuf create: %d %s", code, out)
	}
	obj, _, err := pb.Decode([]byte(out), nil, nil)
	if err != nil {
		t.Fatalf("protobuf response does not decode: %v", err)
	}
	if got := obj.(*corev1.ConfigMap); got.Data["k"] != "v" || got.ResourceVersion == "" {
		t.Fatalf("round trip gave %+v", got)
	}

	req, _ := http.NewRequest("GET", ts.srv.URL+"/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=0", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Accept", protobufType+", application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != protobufType+";stream=watch" {
		t.Fatalf("watch content type %q", ct)
	}
	frames := protobuf.LengthDelimitedFramer.NewFrameReader(resp.Body)
	dec := streaming.NewDecoder(frames, protobuf.NewRawSerializer(ts.api.scheme, ts.api.scheme))
	var ev metav1.WatchEvent
	if _, _, err := dec.Decode(nil, &ev); err != nil {
		t.Fatalf("decode watch frame: %v", err)
	}
	inner, _, err := pb.Decode(ev.Object.Raw, nil, nil)
	if err != nil || ev.Type != "ADDED" || inner.(*corev1.ConfigMap).Name != "pb" {
		t.Fatalf("watch event %s %v %v", ev.Type, inner, err)
	}
}

func TestEventsExpire(t *testing.T) {
	ts := newTestServer(t)
	old := time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339)
	fresh := time.Now().UTC().Format(time.RFC3339)
	for name, when := range map[string]string{"old": old, "fresh": fresh} {
		ts.mustDo(201, "POST", "/api/v1/namespaces/default/events", "application/json", fmt.Sprintf(
			`{"apiVersion":"v1","kind":"Event","metadata":{"name":%q},"involvedObject":{"kind":"Pod","name":"p","namespace":"default"},"reason":"Test","lastTimestamp":%q}`, name, when))
	}
	res, _ := catalog.Lookup(corev1.SchemeGroupVersion.WithResource("events"))
	n, err := ts.api.expireOf(context.Background(), res, time.Now().Add(-EventTTL))
	if err != nil || n != 1 {
		t.Fatalf("expired %d events (%v), want 1", n, err)
	}
	ts.mustDo(404, "GET", "/api/v1/namespaces/default/events/old", "", "")
	ts.mustDo(200, "GET", "/api/v1/namespaces/default/events/fresh", "", "")
}

// TestProtobufDeleteOptions: client-go sends DeleteOptions in protobuf,
// enveloped in the resource's group version.
func TestProtobufDeleteOptions(t *testing.T) {
	ts := newTestServer(t)
	ts.mustDo(201, "POST", "/api/v1/namespaces/default/configmaps", "application/json", cm("gone"))
	pb := protobuf.NewSerializer(ts.api.scheme, ts.api.scheme)
	var body bytes.Buffer
	zero := int64(0)
	opts := &metav1.DeleteOptions{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "DeleteOptions"}, GracePeriodSeconds: &zero}
	if err := pb.Encode(opts, &body); err != nil {
		t.Fatal(err)
	}
	code, out := ts.do("DELETE", "/api/v1/namespaces/default/configmaps/gone", protobufType, body.String())
	if code != 200 {
		t.Fatalf("protobuf DeleteOptions: %d %s", code, out)
	}
}
