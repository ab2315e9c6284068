package tables

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/version"
)

// kubectlPath is a real kubectl on this machine; the test is skipped where
// it is missing.
const kubectlPath = "/usr/lib/google-cloud-sdk/bin/kubectl.1.33"

// fakeAPIServer serves just enough discovery for `kubectl get pods` and
// `kubectl get services`, and answers the lists as Tables when asked.
func fakeAPIServer(t *testing.T, lists map[string]runtime.Object) *httptest.Server {
	t.Helper()
	resource := func(name, kind string) metav1.APIResource {
		return metav1.APIResource{Name: name, Kind: kind, Namespaced: true, Verbs: []string{"get", "list"}}
	}
	static := map[string]interface{}{
		"/version": version.Info{Major: "1", Minor: "33", GitVersion: "v1.33.0-rudder"},
		"/api": metav1.APIVersions{
			TypeMeta: metav1.TypeMeta{Kind: "APIVersions"}, Versions: []string{"v1"},
			ServerAddressByClientCIDRs: []metav1.ServerAddressByClientCIDR{{ClientCIDR: "0.0.0.0/0", ServerAddress: "127.0.0.1"}},
		},
		"/apis": metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}},
		"/api/v1": metav1.APIResourceList{
			TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: "v1",
			APIResources: []metav1.APIResource{resource("pods", "Pod"), resource("services", "Service")},
		},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if body, ok := static[r.URL.Path]; ok {
			_ = json.NewEncoder(w).Encode(body)
			return
		}
		list, ok := lists[r.URL.Path]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			_ = json.NewEncoder(w).Encode(metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusFailure, Reason: metav1.StatusReasonNotFound, Code: http.StatusNotFound})
			return
		}
		if !strings.Contains(r.Header.Get("Accept"), "as=Table") {
			t.Errorf("%s asked without as=Table: Accept %q", r.URL.Path, r.Header.Get("Accept"))
		}
		policy := metav1.IncludeObjectPolicy(r.URL.Query().Get("includeObject"))
		table, err := Convert(list, Options{Now: now, IncludeObject: policy})
		if err != nil {
			t.Errorf("Convert: %v", err)
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(table)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func runKubectl(t *testing.T, server string, args ...string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	home := t.TempDir()
	base := []string{"--server=" + server, "--cache-dir=" + home + "/cache", "--request-timeout=3s"}
	cmd := exec.CommandContext(ctx, kubectlPath, append(base, args...)...)
	cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %v: %v\n%s", args, err, out)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		lines = append(lines, strings.Join(strings.Fields(l), " "))
	}
	return lines
}

func TestRealKubectl(t *testing.T) {
	if _, err := os.Stat(kubectlPath); err != nil {
		t.Skipf("no %s: %v", kubectlPath, err)
	}
	crashing := pod(corev1.PodRunning, waiting("app", "CrashLoopBackOff", 3))
	crashing.Name = "web-b"
	crashing.Status.ContainerStatuses[0].LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: 1, FinishedAt: ago(5 * time.Minute)}
	healthy := pod(corev1.PodRunning, running("app", 0, 0))
	healthy.Name = "web-a"
	pods := &corev1.PodList{Items: []corev1.Pod{*crashing, *healthy}, ListMeta: metav1.ListMeta{ResourceVersion: "12"}}
	services := &corev1.ServiceList{Items: []corev1.Service{*service(corev1.ServiceTypeNodePort, corev1.ServicePort{Port: 80, NodePort: 30080, Protocol: corev1.ProtocolTCP})}}
	srv := fakeAPIServer(t, map[string]runtime.Object{
		"/api/v1/namespaces/default/pods":     pods,
		"/api/v1/namespaces/default/services": services,
	})

	check := func(name string, got []string, want ...string) {
		t.Helper()
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s printed\n%s\nwant\n%s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	check("get pods", runKubectl(t, srv.URL, "get", "pods"),
		"NAME READY STATUS RESTARTS AGE",
		"web-b 0/1 CrashLoopBackOff 3 (5m ago) 3d",
		"web-a 1/1 Running 0 3d")
	check("get pods -o wide", runKubectl(t, srv.URL, "get", "pods", "-o", "wide"),
		"NAME READY STATUS RESTARTS AGE IP NODE NOMINATED NODE READINESS GATES",
		"web-b 0/1 CrashLoopBackOff 3 (5m ago) 3d 10.244.1.5 node-1 <none> <none>",
		"web-a 1/1 Running 0 3d 10.244.1.5 node-1 <none> <none>")
	check("get pods --sort-by", runKubectl(t, srv.URL, "get", "pods", "--sort-by=.metadata.name", "--show-labels"),
		"NAME READY STATUS RESTARTS AGE LABELS",
		"web-a 1/1 Running 0 3d <none>",
		"web-b 0/1 CrashLoopBackOff 3 (5m ago) 3d <none>")
	check("get services -o wide", runKubectl(t, srv.URL, "get", "services", "-o", "wide"),
		"NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE SELECTOR",
		"web NodePort 10.96.0.20 <none> 80:30080/TCP 90m app=web")
}
