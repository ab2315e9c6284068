package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const manifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: NodePort
  selector: {app: web}
  ports:
  - name: http
    port: 80
    targetPort: 80
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
  greeting: hello
`

const listManifest = `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: from-list-a
  data: {k: a}
- apiVersion: v1
  kind: Secret
  metadata:
    name: from-list-b
  stringData: {k: b}
`

// TestKubectlScenario drives the server with real kubectl binaries of
// two minor versions through what a user does in a day.
func TestKubectlScenario(t *testing.T) {
	s := startServer(t)
	for _, minor := range kubectlMinors {
		t.Run("kubectl-"+minor, func(t *testing.T) {
			k := newKubectl(t, s, minor)
			ns := "e2e-" + strings.ReplaceAll(minor, ".", "-")
			scenarioApply(t, k, ns)
			scenarioGet(t, k, ns)
			scenarioWatch(t, k, ns)
			scenarioMutate(t, k, ns)
			scenarioInspect(t, k, ns)
			scenarioErrors(t, k, ns)
			scenarioDelete(t, k, ns)
		})
	}
}

func scenarioApply(t *testing.T, k *kubectl, ns string) {
	contains(t, "create namespace", k.ok("create", "namespace", ns), "namespace/"+ns+" created")
	f := k.file("app.yaml", manifest)
	out := k.ok("apply", "-n", ns, "-f", f)
	contains(t, "apply", out, "deployment.apps/web created", "service/web created", "configmap/web-config created")
	contains(t, "apply List", k.ok("apply", "-n", ns, "-f", k.file("list.yaml", listManifest)),
		"configmap/from-list-a created", "secret/from-list-b created")

	edited := strings.Replace(strings.Replace(manifest, "replicas: 2", "replicas: 3", 1), "greeting: hello", "greeting: bonjour", 1)
	out = k.ok("apply", "-n", ns, "-f", k.file("app.yaml", edited))
	contains(t, "re-apply", out, "deployment.apps/web configured", "configmap/web-config configured", "service/web unchanged")
	contains(t, "replicas after apply", k.ok("get", "deploy/web", "-n", ns, "-o", "jsonpath={.spec.replicas}"), "3")

	ssa := strings.Replace(edited, "greeting: bonjour", "greeting: hallo", 1)
	out = k.ok("apply", "--server-side", "-n", ns, "-f", k.file("app.yaml", ssa))
	contains(t, "server-side apply", out, "deployment.apps/web serverside-applied", "configmap/web-config serverside-applied")
	contains(t, "ssa result", k.ok("get", "cm/web-config", "-n", ns, "-o", "jsonpath={.data.greeting}"), "hallo")
	// Another manager wanting the same field conflicts, unless it forces.
	other := strings.Replace(ssa, "greeting: hallo", "greeting: hej", 1)
	p := k.file("other.yaml", other)
	errOut := k.fails("apply", "--server-side", "--field-manager=other", "-n", ns, "-f", p)
	contains(t, "ssa conflict", errOut, "conflict")
	k.ok("apply", "--server-side", "--field-manager=other", "--force-conflicts", "-n", ns, "-f", p)
	contains(t, "forced ssa", k.ok("get", "cm/web-config", "-n", ns, "-o", "jsonpath={.data.greeting}"), "hej")
}

func scenarioGet(t *testing.T, k *kubectl, ns string) {
	out := k.ok("get", "deployments", "-n", ns, "-o", "wide")
	contains(t, "get deploy -o wide", out, "READY", "UP-TO-DATE", "AVAILABLE", "CONTAINERS", "IMAGES", "SELECTOR", "nginx:1.27", "app=web")
	out = k.ok("get", "svc", "-n", ns)
	contains(t, "get svc", out, "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "NodePort", "80:3")
	out = k.ok("get", "svc", "kubernetes", "-n", "default")
	contains(t, "kubernetes service", out, "10.96.0.1", "443/TCP")

	var obj map[string]any
	if err := json.Unmarshal([]byte(k.ok("get", "svc/web", "-n", ns, "-o", "json")), &obj); err != nil {
		t.Fatalf("-o json: %v", err)
	}
	spec := obj["spec"].(map[string]any)
	if ip, _ := spec["clusterIP"].(string); !strings.HasPrefix(ip, "10.") {
		t.Fatalf("service got no cluster IP: %v", spec)
	}
	contains(t, "-o yaml", k.ok("get", "cm/web-config", "-n", ns, "-o", "yaml"), "kind: ConfigMap", "resourceVersion:", "uid:")
	contains(t, "get all", k.ok("get", "all", "-n", ns), "deployment.apps/web", "service/web")
	contains(t, "label selector", k.ok("get", "deploy", "-n", ns, "-l", "app=web", "-o", "name"), "deployment.apps/web")
	contains(t, "field selector", k.ok("get", "cm", "-n", ns, "--field-selector", "metadata.name=from-list-a", "-o", "name"), "configmap/from-list-a")
	contains(t, "chunked list", k.ok("get", "cm", "-n", ns, "--chunk-size=1", "-o", "name"), "configmap/from-list-a", "configmap/web-config")
}

// scenarioWatch runs `kubectl get -w` and sees a change arrive.
func scenarioWatch(t *testing.T, k *kubectl, ns string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, k.bin, "get", "configmaps", "-n", ns, "-w", "--output-watch-events")
	cmd.Env = k.env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	waitLine(t, lines, "web-config")
	k.ok("create", "configmap", "watched", "-n", ns, "--from-literal=a=b")
	got := waitLine(t, lines, "watched")
	contains(t, "watch event", got, "ADDED")
}

func waitLine(t *testing.T, lines <-chan string, want string) string {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("watch ended before %q", want)
			}
			if strings.Contains(l, want) {
				return l
			}
		case <-timeout:
			t.Fatalf("no watch line with %q", want)
		}
	}
}

func scenarioMutate(t *testing.T, k *kubectl, ns string) {
	contains(t, "label", k.ok("label", "deploy/web", "-n", ns, "tier=frontend"), "deployment.apps/web labeled")
	contains(t, "annotate", k.ok("annotate", "deploy/web", "-n", ns, "owner=team-a"), "deployment.apps/web annotate") // 1.27 prints "annotate"
	k.ok("patch", "cm/web-config", "-n", ns, "--type=merge", "-p", `{"data":{"merge":"yes"}}`)
	k.ok("patch", "cm/web-config", "-n", ns, "--type=json", "-p", `[{"op":"add","path":"/data/json","value":"yes"}]`)
	k.ok("patch", "deploy/web", "-n", ns, "-p", `{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.28"}]}}}}`)
	out := k.ok("get", "cm/web-config", "-n", ns, "-o", "jsonpath={.data.merge},{.data.json}")
	contains(t, "patched configmap", out, "yes,yes")
	out = k.ok("get", "deploy/web", "-n", ns, "-o", "jsonpath={.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].ports[0].containerPort} {.metadata.generation}")
	contains(t, "strategic patch kept the port and bumped generation", out, "nginx:1.28 80 ")
	contains(t, "scale", k.ok("scale", "deploy/web", "-n", ns, "--replicas=5"), "deployment.apps/web scaled")
	contains(t, "scaled", k.ok("get", "deploy/web", "-n", ns, "-o", "jsonpath={.spec.replicas}"), "5")

	editor := filepath.Join(k.workDir, "editor.sh")
	if err := os.WriteFile(editor, []byte("#!/bin/sh\nsed -i 's/greeting: hej/greeting: edited/' \"$1\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	k.env = append(k.env, "KUBE_EDITOR="+editor)
	contains(t, "edit", k.ok("edit", "cm/web-config", "-n", ns), "configmap/web-config edited")
	contains(t, "edited", k.ok("get", "cm/web-config", "-n", ns, "-o", "jsonpath={.data.greeting}"), "edited")
}

func scenarioInspect(t *testing.T, k *kubectl, ns string) {
	contains(t, "describe", k.ok("describe", "deploy/web", "-n", ns), "Name:", "web", "Replicas:", "StrategyType:", "RollingUpdate", "Pod Template:")
	contains(t, "describe svc", k.ok("describe", "svc/web", "-n", ns), "Type:", "NodePort", "IP:")
	contains(t, "explain", k.ok("explain", "deployment.spec.strategy"), "RollingUpdate", "FIELDS")
	contains(t, "explain pods", k.ok("explain", "pods.spec.containers.ports"), "containerPort")
	out := k.ok("api-resources")
	contains(t, "api-resources", out, "deployments", "deploy", "apps/v1", "endpointslices", "discovery.k8s.io/v1", "leases")
	contains(t, "api-versions", k.ok("api-versions"), "apps/v1", "networking.k8s.io/v1", "v1")
}

func scenarioErrors(t *testing.T, k *kubectl, ns string) {
	bad := strings.Replace(manifest[:strings.Index(manifest, "---")], "matchLabels: {app: web}", "matchLabels: {app: other}", 1)
	bad = strings.Replace(bad, "name: web\n", "name: bad\n", 1)
	errOut := k.fails("apply", "-n", ns, "-f", k.file("bad.yaml", bad))
	contains(t, "invalid manifest", errOut, "is invalid", "selector` does not match template `labels`")
	unknown := strings.Replace(manifest[:strings.Index(manifest, "---")], "replicas: 2", "replicas: 2\n  foo: bar", 1)
	errOut = k.fails("apply", "-n", ns, "-f", k.file("unknown.yaml", unknown))
	contains(t, "unknown field", errOut, `unknown field "spec.foo"`)
	errOut = k.fails("get", "deploy/nope", "-n", ns)
	contains(t, "not found", errOut, `deployments.apps "nope" not found`)
	errOut = k.fails("get", "frobnicators")
	contains(t, "unknown resource", errOut, `the server doesn't have a resource type "frobnicators"`)
}

func scenarioDelete(t *testing.T, k *kubectl, ns string) {
	contains(t, "delete", k.ok("delete", "-n", ns, "deploy/web", "svc/web"), `deployment.apps "web" deleted`, `service "web" deleted`)
	contains(t, "delete orphan", k.ok("delete", "-n", ns, "cm/from-list-a", "--cascade=orphan", "--timeout=30s"), `configmap "from-list-a" deleted`)
	contains(t, "delete foreground", k.ok("delete", "-n", ns, "secret/from-list-b", "--cascade=foreground", "--timeout=30s"), `secret "from-list-b" deleted`)
	k.ok("delete", "namespace", ns, "--wait=true", "--timeout=60s")
	_, errOut, err := k.run("get", "namespace", ns)
	if err == nil || !strings.Contains(errOut, "not found") {
		t.Fatalf("namespace %s still there after delete: %s", ns, errOut)
	}
}
