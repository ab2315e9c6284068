package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// klNS is the namespace the kubelet tests put their objects in.
const klNS = "kl"

// TestLabKubelet checks the kubelet's behaviour on a 2-node lab with
// kubectl and real pods: restarts and backoff, init containers, probes,
// image errors, env and volumes, networking files, termination, logs,
// exec, port-forward and Job retries. The subtests run in parallel, each
// with its own pods.
func TestLabKubelet(t *testing.T) {
	e := upLab(t, 2, "nftables", "198.18.242.0/24")
	e.k.ok("create", "namespace", klNS)
	for _, s := range []struct {
		name string
		f    func(*labEnv)
	}{
		{"CrashLoopBackOff", klCrashLoop},
		{"InitContainers", klInitContainers},
		{"LivenessRestarts", klLiveness},
		{"ReadinessFlips", klReadiness},
		{"UnknownImage", klUnknownImage},
		{"EnvAndVolumes", klEnvAndVolumes},
		{"SecretStringData", klSecretStringData},
		{"NetworkFiles", klNetworkFiles},
		{"PreStopAndGrace", klPreStopAndGrace},
		{"LogsExecPortForward", klLogsExecPortForward},
		{"JobRetries", klJobRetries},
	} {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			s.f(e.in(t))
		})
	}
}

// klApply writes a manifest to name.yaml and applies it in the test
// namespace.
func klApply(e *labEnv, name, manifest string) {
	e.t.Helper()
	e.k.ok("apply", "-n", klNS, "-f", e.k.file(name+".yaml", manifest))
}

// klPod reads a jsonpath of a pod in the test namespace.
func klPod(e *labEnv, pod, jsonpath string) string {
	e.t.Helper()
	return e.jsonpath("get", "pod", pod, "-n", klNS, "-o", "jsonpath="+jsonpath)
}

// klWaitReady waits for a pod's Ready condition.
func klWaitReady(e *labEnv, pod string) {
	e.t.Helper()
	out, errOut, err := e.k.run("wait", "-n", klNS, "--for=condition=Ready", "pod/"+pod, "--timeout=45s")
	if err != nil {
		desc, _, _ := e.k.run("describe", "pod", "-n", klNS, pod)
		e.t.Fatalf("pod %s not Ready: %v\n%s%s\n%s", pod, err, out, errOut, desc)
	}
}

// klExec runs a command in a pod and returns its stdout.
func klExec(e *labEnv, pod string, cmd ...string) string {
	e.t.Helper()
	return e.k.ok(append([]string{"exec", "-n", klNS, pod, "--"}, cmd...)...)
}

// klNodeNS is the network namespace path of the node a pod runs on.
func klNodeNS(e *labEnv, pod string) string {
	e.t.Helper()
	return e.node(klPod(e, pod, "{.spec.nodeName}")).NetNSPath
}

const klCrashManifest = `apiVersion: v1
kind: Pod
metadata:
  name: crash
spec:
  restartPolicy: Always
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "echo run-$RANDOM; exit 1"]
`

// klCrashLoop: a container that exits 1 is restarted, then backs off;
// the previous instance's exit code and output stay available.
func klCrashLoop(e *labEnv) {
	klApply(e, "crash", klCrashManifest)
	eventually(e.t, "crash in CrashLoopBackOff", 40*time.Second, func() error {
		reason := klPod(e, "crash", "{.status.containerStatuses[0].state.waiting.reason}")
		n, _ := strconv.Atoi(klPod(e, "crash", "{.status.containerStatuses[0].restartCount}"))
		if reason != "CrashLoopBackOff" || n < 1 {
			return fmt.Errorf("waiting reason %q, restartCount %d", reason, n)
		}
		return nil
	})
	contains(e.t, "CrashLoopBackOff message", klPod(e, "crash", "{.status.containerStatuses[0].state.waiting.message}"),
		"back-off", "container=c")
	if code := klPod(e, "crash", "{.status.containerStatuses[0].lastState.terminated.exitCode}"); code != "1" {
		e.t.Fatalf("lastState.terminated.exitCode %q, want 1", code)
	}
	prev := e.k.ok("logs", "-n", klNS, "crash", "--previous")
	if !regexp.MustCompile(`(?m)^run-\d+$`).MatchString(prev) || strings.Count(prev, "run-") != 1 {
		e.t.Fatalf("logs --previous: want one line run-N, got %q", prev)
	}
	first := strings.TrimSpace(prev)
	eventually(e.t, "restartCount grows", 40*time.Second, func() error {
		n, _ := strconv.Atoi(klPod(e, "crash", "{.status.containerStatuses[0].restartCount}"))
		if n < 2 {
			return fmt.Errorf("restartCount %d", n)
		}
		return nil
	})
	eventually(e.t, "logs --previous follows the restarts", 10*time.Second, func() error {
		if p := strings.TrimSpace(e.k.ok("logs", "-n", klNS, "crash", "--previous")); p == first {
			return fmt.Errorf("--previous still shows %q", p)
		}
		return nil
	})
}

const klInitManifest = `apiVersion: v1
kind: Pod
metadata:
  name: init
spec:
  volumes: [{name: w, emptyDir: {}}]
  initContainers:
  - name: one
    image: busybox
    command: ["sh", "-c", "sleep 2; echo one >> /w/order"]
    volumeMounts: [{name: w, mountPath: /w}]
  - name: two
    image: busybox
    command: ["sh", "-c", "sleep 2; echo two >> /w/order"]
    volumeMounts: [{name: w, mountPath: /w}]
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "echo main; cat /w/order; exec sleep 1000"]
    volumeMounts: [{name: w, mountPath: /w}]
`

// klInitContainers: init containers run one after the other before the
// main container, and kubectl shows Init:… then Running.
func klInitContainers(e *labEnv) {
	klApply(e, "init", klInitManifest)
	seen := map[string]bool{}
	var order []string
	eventually(e.t, "init pod Running", 40*time.Second, func() error {
		f := strings.Fields(e.k.ok("get", "pod", "init", "-n", klNS, "--no-headers"))
		if len(f) < 3 {
			return fmt.Errorf("kubectl get pod: %v", f)
		}
		if !seen[f[2]] {
			seen[f[2]] = true
			order = append(order, f[2])
		}
		if f[2] != "Running" {
			return fmt.Errorf("status %s", f[2])
		}
		return nil
	})
	e.t.Logf("statuses seen: %v", order)
	if !seen["Init:0/2"] && !seen["Init:1/2"] {
		e.t.Fatalf("kubectl get pod never showed Init:…: %v", order)
	}
	eventually(e.t, "main prints the init order", 10*time.Second, func() error {
		if out := e.k.ok("logs", "-n", klNS, "init", "-c", "main"); out != "main\none\ntwo\n" {
			return fmt.Errorf("main logs %q", out)
		}
		return nil
	})
	for _, c := range []string{"one", "two"} {
		reason := klPod(e, "init", fmt.Sprintf(`{.status.initContainerStatuses[?(@.name=="%s")].state.terminated.reason}`, c))
		if reason != "Completed" {
			e.t.Errorf("init container %s terminated reason %q, want Completed", c, reason)
		}
	}
	fin2 := klPod(e, "init", `{.status.initContainerStatuses[?(@.name=="two")].state.terminated.finishedAt}`)
	start := klPod(e, "init", `{.status.containerStatuses[0].state.running.startedAt}`)
	if a, b := klTime(e, fin2), klTime(e, start); b.Before(a) {
		e.t.Fatalf("main started at %s, before init two finished at %s", b, a)
	}
}

// klTime parses an RFC 3339 time of a pod status.
func klTime(e *labEnv, s string) time.Time {
	e.t.Helper()
	ts, err := time.Parse(time.RFC3339, s)
	if err != nil {
		e.t.Fatalf("time %q: %v", s, err)
	}
	return ts
}

const klNetexecManifest = `apiVersion: v1
kind: Pod
metadata:
  name: %s
spec:
  containers:
  - name: netexec
    image: rudder
    args: ["netexec", "--http-port=8080"]
    ports: [{containerPort: 8080}]
%s`

const klLivenessProbe = `    livenessProbe:
      httpGet: {path: /healthz, port: 8080}
      periodSeconds: 1
      failureThreshold: 2
`

const klReadinessProbe = `    readinessProbe:
      httpGet: {path: /healthz, port: 8080}
      periodSeconds: 1
      failureThreshold: 1
      successThreshold: 1
`

// klLiveness: a failing liveness probe restarts the container.
func klLiveness(e *labEnv) {
	klApply(e, "live", fmt.Sprintf(klNetexecManifest, "live", klLivenessProbe))
	klWaitReady(e, "live")
	ip, nsPath := klPod(e, "live", "{.status.podIP}"), klNodeNS(e, "live")
	before := klPod(e, "live", "{.status.containerStatuses[0].containerID}")
	if _, err := nsGet(nsPath, "http://"+ip+":8080/healthz/fail", 5*time.Second); err != nil {
		e.t.Fatalf("make /healthz fail: %v", err)
	}
	eventually(e.t, "live restarted", 30*time.Second, func() error {
		if n := klPod(e, "live", "{.status.containerStatuses[0].restartCount}"); n != "1" {
			return fmt.Errorf("restartCount %q", n)
		}
		return nil
	})
	klWaitReady(e, "live")
	if after := klPod(e, "live", "{.status.containerStatuses[0].containerID}"); after == before {
		e.t.Errorf("containerID %s unchanged by the restart", after)
	}
	if _, err := nsGet(nsPath, "http://"+ip+":8080/healthz", 5*time.Second); err != nil {
		e.t.Fatalf("the new instance is not healthy: %v", err)
	}
	time.Sleep(3 * time.Second) // the healthy instance is left alone
	if n := klPod(e, "live", "{.status.containerStatuses[0].restartCount}"); n != "1" {
		e.t.Fatalf("restartCount %s after the new instance was healthy, want 1", n)
	}
}

// klReadiness: the readiness probe turns Ready off and on again and
// never restarts the container.
func klReadiness(e *labEnv) {
	klApply(e, "ready", fmt.Sprintf(klNetexecManifest, "ready", klReadinessProbe))
	klWaitReady(e, "ready")
	ip, nsPath := klPod(e, "ready", "{.status.podIP}"), klNodeNS(e, "ready")
	for _, step := range []struct{ path, want string }{{"fail", "False"}, {"ok", "True"}} {
		if _, err := nsGet(nsPath, "http://"+ip+":8080/healthz/"+step.path, 5*time.Second); err != nil {
			e.t.Fatalf("/healthz/%s: %v", step.path, err)
		}
		eventually(e.t, "Ready "+step.want, 20*time.Second, func() error {
			got := klPod(e, "ready", `{.status.conditions[?(@.type=="Ready")].status}`)
			cready := klPod(e, "ready", "{.status.containerStatuses[0].ready}")
			if got != step.want || cready != strings.ToLower(step.want) {
				return fmt.Errorf("Ready %q, container ready %q", got, cready)
			}
			return nil
		})
	}
	if n := klPod(e, "ready", "{.status.containerStatuses[0].restartCount}"); n != "0" {
		e.t.Fatalf("readiness restarted the container: restartCount %s", n)
	}
}

const klNoImageManifest = `apiVersion: v1
kind: Pod
metadata:
  name: noimage
spec:
  containers:
  - name: c
    image: example.com/nothing:1
`

// klUnknownImage: a container whose image the node cannot provide waits
// with ErrImagePull and a message saying how to provide it.
func klUnknownImage(e *labEnv) {
	klApply(e, "noimage", klNoImageManifest)
	var reason, msg string
	eventually(e.t, "noimage waits with ErrImagePull", 30*time.Second, func() error {
		// The first failure is ErrImagePull, the retries 10 s later
		// ImagePullBackOff, with the same message.
		reason = klPod(e, "noimage", "{.status.containerStatuses[0].state.waiting.reason}")
		if reason != "ErrImagePull" && reason != "ImagePullBackOff" {
			return fmt.Errorf("waiting reason %q", reason)
		}
		msg = klPod(e, "noimage", "{.status.containerStatuses[0].state.waiting.message}")
		return nil
	})
	e.t.Logf("waiting %s: %s", reason, msg)
	contains(e.t, reason+" message", msg, "example.com/nothing:1", "--image-map")
	contains(e.t, "events", e.k.ok("get", "events", "-n", klNS, "--field-selector", "involvedObject.name=noimage"),
		"Failed to pull image", "example.com/nothing:1")
	if p := klPod(e, "noimage", "{.status.phase}"); p != "Pending" {
		e.t.Fatalf("phase %s, want Pending", p)
	}
}

const klEnvManifest = `apiVersion: v1
kind: ConfigMap
metadata:
  name: klcm
data: {color: blue, size: L}
---
apiVersion: v1
kind: Secret
metadata:
  name: klsec
data: {password: czNjcmV0}
---
apiVersion: v1
kind: Pod
metadata:
  name: env
  labels: {app: env, tier: kl}
spec:
  volumes:
  - {name: cm, configMap: {name: klcm}}
  - {name: sec, secret: {secretName: klsec}}
  - name: dw
    downwardAPI:
      items:
      - {path: labels, fieldRef: {fieldPath: metadata.labels}}
      - {path: name, fieldRef: {fieldPath: metadata.name}}
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c"]
    args: ["echo arg color=$(COLOR) node=$(NODE); exec sleep 1000"]
    envFrom: [{prefix: CM_, configMapRef: {name: klcm}}]
    env:
    - {name: COLOR, valueFrom: {configMapKeyRef: {name: klcm, key: color}}}
    - {name: PASS, valueFrom: {secretKeyRef: {name: klsec, key: password}}}
    - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
    - {name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}
    - {name: GREETING, value: "hello-$(COLOR)"}
    - {name: LITERAL, value: "$$(COLOR)"}
    volumeMounts:
    - {name: cm, mountPath: /cm}
    - {name: sec, mountPath: /sec}
    - {name: dw, mountPath: /dw}
`

// klEnvAndVolumes: configMaps, secrets and the downward API reach the
// container as env, as files and through $(VAR) expansion.
func klEnvAndVolumes(e *labEnv) {
	klApply(e, "env", klEnvManifest)
	klWaitReady(e, "env")
	ip, node := klPod(e, "env", "{.status.podIP}"), klPod(e, "env", "{.spec.nodeName}")
	contains(e.t, "env", klExec(e, "env", "env"), "COLOR=blue\n", "PASS=s3cret\n", "CM_color=blue\n", "CM_size=L\n",
		"POD_IP="+ip+"\n", "NODE="+node+"\n", "GREETING=hello-blue\n", "LITERAL=$(COLOR)\n")
	if got := klExec(e, "env", "cat", "/cm/color"); got != "blue" {
		e.t.Errorf("/cm/color = %q, want blue", got)
	}
	if got := klExec(e, "env", "cat", "/sec/password"); got != "s3cret" {
		e.t.Errorf("/sec/password = %q, want s3cret", got)
	}
	contains(e.t, "downwardAPI labels", klExec(e, "env", "cat", "/dw/labels"), `app="env"`, `tier="kl"`)
	if got := klExec(e, "env", "cat", "/dw/name"); got != "env" {
		e.t.Errorf("/dw/name = %q, want env", got)
	}
	eventually(e.t, "expanded args", 10*time.Second, func() error {
		want := fmt.Sprintf("arg color=blue node=%s\n", node)
		if out := e.k.ok("logs", "-n", klNS, "env"); out != want {
			return fmt.Errorf("logs %q, want %q", out, want)
		}
		return nil
	})
}

const klStringDataManifest = `apiVersion: v1
kind: Secret
metadata:
  name: klstring
stringData: {token: plain-text}
`

// klSecretStringData: a Secret written with stringData is stored with
// the value in data, as the kubelet (and every client) reads it.
func klSecretStringData(e *labEnv) {
	klApply(e, "stringdata", klStringDataManifest)
	got := e.jsonpath("get", "secret", "klstring", "-n", klNS, "-o", "jsonpath={.data.token}")
	if got == "" {
		e.t.Fatal("the apiserver stored the Secret's stringData instead of merging it into data")
	}
	if got != "cGxhaW4tdGV4dA==" {
		e.t.Fatalf("data.token %q, want base64 of plain-text", got)
	}
	if s := e.jsonpath("get", "secret", "klstring", "-n", klNS, "-o", "jsonpath={.stringData}"); s != "" {
		e.t.Fatalf("stringData stored: %s", s)
	}
}

const klNetManifest = `apiVersion: v1
kind: Pod
metadata:
  name: hostnet
spec:
  hostNetwork: true
  containers:
  - name: c
    image: busybox
    command: ["sleep", "1000"]
---
apiVersion: v1
kind: Pod
metadata:
  name: files
spec:
  hostAliases:
  - ip: 10.1.2.3
    hostnames: [foo.kl.test, bar.kl.test]
  dnsPolicy: None
  dnsConfig:
    nameservers: [192.0.2.53]
    searches: [kl.example, example.org]
    options:
    - {name: ndots, value: "2"}
    - {name: edns0}
  containers:
  - name: c
    image: busybox
    command: ["sleep", "1000"]
`

// klNetworkFiles: a hostNetwork pod sees the node's addresses; a normal
// pod's /etc/hosts has its hostAliases and dnsPolicy None takes
// dnsConfig as the whole resolv.conf.
func klNetworkFiles(e *labEnv) {
	klApply(e, "net", klNetManifest)
	klWaitReady(e, "hostnet")
	hostIP, podIP := klPod(e, "hostnet", "{.status.hostIP}"), klPod(e, "hostnet", "{.status.podIP}")
	if hostIP == "" || podIP != hostIP {
		e.t.Errorf("hostNetwork pod IP %q, host IP %q: want equal", podIP, hostIP)
	}
	contains(e.t, "ip addr in the hostNetwork pod", klExec(e, "hostnet", "ip", "-o", "addr"), " "+hostIP+"/")
	if want := e.node(klPod(e, "hostnet", "{.spec.nodeName}")).IP.String(); want != hostIP {
		e.t.Errorf("host IP %s, the lab node's is %s", hostIP, want)
	}

	klWaitReady(e, "files")
	hosts := klExec(e, "files", "cat", "/etc/hosts")
	if !regexp.MustCompile(`(?m)^10\.1\.2\.3\s+foo\.kl\.test\s+bar\.kl\.test\s*$`).MatchString(hosts) {
		e.t.Errorf("/etc/hosts lacks the hostAliases line:\n%s", hosts)
	}
	contains(e.t, "/etc/hosts own name", hosts, klPod(e, "files", "{.status.podIP}"), "files")
	resolv := klExec(e, "files", "cat", "/etc/resolv.conf")
	contains(e.t, "resolv.conf", resolv, "nameserver 192.0.2.53", "search kl.example example.org", "ndots:2", "edns0")
	if strings.Contains(resolv, "10.96.0.10") || strings.Contains(resolv, "cluster.local") {
		e.t.Errorf("dnsPolicy None kept cluster DNS:\n%s", resolv)
	}
}

const klPreStopManifest = `apiVersion: v1
kind: Pod
metadata:
  name: prestop
spec:
  terminationGracePeriodSeconds: 20
  volumes: [{name: h, hostPath: {path: %q, type: Directory}}]
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "trap 'echo term >> /h/log; exit 0' TERM; echo started >> /h/log; while true; do sleep 0.2; done"]
    volumeMounts: [{name: h, mountPath: /h}]
    lifecycle:
      preStop:
        exec:
          command: ["sh", "-c", "echo prestop >> /h/log; sleep 1; echo prestop-done >> /h/log"]
---
apiVersion: v1
kind: Pod
metadata:
  name: stubborn
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "trap '' TERM; echo up; sleep 1000"]
`

// klPreStopAndGrace: kubectl delete runs the preStop hook before SIGTERM,
// and a container ignoring SIGTERM is killed after the grace period.
func klPreStopAndGrace(e *labEnv) {
	dir := e.t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil {
		e.t.Fatal(err)
	}
	klApply(e, "prestop", fmt.Sprintf(klPreStopManifest, dir))
	klWaitReady(e, "prestop")
	klWaitReady(e, "stubborn")
	eventually(e.t, "stubborn is up", 10*time.Second, func() error {
		if out := e.k.ok("logs", "-n", klNS, "stubborn"); out != "up\n" {
			return fmt.Errorf("logs %q", out)
		}
		return nil
	})

	e.k.ok("delete", "pod", "prestop", "-n", klNS, "--wait=true", "--timeout=40s")
	b, err := os.ReadFile(filepath.Join(dir, "log"))
	if err != nil {
		e.t.Fatalf("hook log: %v", err)
	}
	if got := string(b); got != "started\nprestop\nprestop-done\nterm\n" {
		e.t.Fatalf("hostPath log %q, want started, prestop, prestop-done, term in that order", got)
	}

	start := time.Now()
	e.k.ok("delete", "pod", "stubborn", "-n", klNS, "--wait=true", "--timeout=40s")
	took := time.Since(start)
	e.t.Logf("a pod ignoring SIGTERM with grace 2 s deleted in %s", took)
	if took < 1500*time.Millisecond || took > 10*time.Second {
		e.t.Fatalf("deleting a pod ignoring SIGTERM with grace 2 s took %s, want ≈2 s", took)
	}
}

const klChattyManifest = `apiVersion: v1
kind: Pod
metadata:
  name: chatty
spec:
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "i=0; while true; do echo line-$i; i=$((i+1)); sleep 0.3; done"]
`

// klLogsExecPortForward: kubectl logs -f, --tail and --timestamps;
// kubectl exec -i with stdin; kubectl port-forward to netexec.
func klLogsExecPortForward(e *labEnv) {
	klApply(e, "chatty", klChattyManifest)
	klApply(e, "pf", fmt.Sprintf(klNetexecManifest, "pf", ""))
	klWaitReady(e, "chatty")
	eventually(e.t, "chatty has 3 lines", 10*time.Second, func() error {
		if n := strings.Count(e.k.ok("logs", "-n", klNS, "chatty"), "\n"); n < 3 {
			return fmt.Errorf("%d lines", n)
		}
		return nil
	})
	klFollow(e)

	tail := e.k.ok("logs", "-n", klNS, "chatty", "--tail=2")
	if lines := strings.Split(strings.TrimSuffix(tail, "\n"), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[1], "line-") {
		e.t.Errorf("--tail=2 gave %q", tail)
	}
	stamped := e.k.ok("logs", "-n", klNS, "chatty", "--tail=3", "--timestamps")
	for _, l := range strings.Split(strings.TrimSuffix(stamped, "\n"), "\n") {
		ts, rest, _ := strings.Cut(l, " ")
		when, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil || !strings.HasPrefix(rest, "line-") || time.Since(when) > time.Minute || time.Until(when) > 5*time.Second {
			e.t.Errorf("--timestamps line %q: %v", l, err)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.k.bin, "exec", "-i", "-n", klNS, "chatty", "--", "cat")
	cmd.Env, cmd.Stdin = e.k.env, strings.NewReader("hi\nthere\n")
	out, err := cmd.CombinedOutput()
	if err != nil || string(out) != "hi\nthere\n" {
		e.t.Errorf("echo hi | kubectl exec -i chatty -- cat: %v, output %q", err, out)
	}

	klWaitReady(e, "pf")
	klPortForward(e, "pf")
}

// klFollow runs kubectl logs -f and sees new lines arrive.
func klFollow(e *labEnv) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.k.bin, "logs", "-f", "-n", klNS, "chatty", "--tail=1")
	cmd.Env = e.k.env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	sc := bufio.NewScanner(stdout)
	first := -1
	for sc.Scan() {
		n, err := strconv.Atoi(strings.TrimPrefix(sc.Text(), "line-"))
		if err != nil {
			e.t.Fatalf("logs -f line %q", sc.Text())
		}
		if first < 0 {
			first = n
		}
		if n >= first+5 {
			return
		}
	}
	e.t.Fatalf("logs -f stopped (first line %d): %v", first, ctx.Err())
}

// klPortForward runs kubectl port-forward to a netexec pod on an
// ephemeral local port and fetches /hostname through it.
func klPortForward(e *labEnv, pod string) {
	cmd := exec.Command(e.k.bin, "port-forward", "-n", klNS, "pod/"+pod, "--address=127.0.0.1", ":8080")
	cmd.Env = e.k.env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	cmd.Stderr = testWriter{e.t}
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	local := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`Forwarding from (127\.0\.0\.1:\d+) -> 8080`)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				local <- m[1]
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	var addr string
	select {
	case addr = <-local:
	case <-time.After(20 * time.Second):
		e.t.Fatal("kubectl port-forward printed no Forwarding from line")
	}
	c := &http.Client{Timeout: 5 * time.Second}
	for i := range 3 {
		resp, err := c.Get("http://" + addr + "/hostname")
		if err != nil {
			e.t.Fatalf("GET %d through port-forward %s: %v", i, addr, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(b) != pod {
			e.t.Fatalf("GET %d /hostname through port-forward: %q %v, want %q", i, b, err, pod)
		}
	}
}

const klJobManifest = `apiVersion: batch/v1
kind: Job
metadata:
  name: retry
spec:
  backoffLimit: 3
  template:
    spec:
      restartPolicy: OnFailure
      volumes: [{name: w, emptyDir: {}}]
      containers:
      - name: c
        image: busybox
        command: ["sh", "-c", "if [ -f /w/tried ]; then echo second try; exit 0; fi; touch /w/tried; echo first try; exit 1"]
        volumeMounts: [{name: w, mountPath: /w}]
`

// klJobRetries: a Job whose pod fails once is restarted in place
// (restartPolicy OnFailure) and completes.
func klJobRetries(e *labEnv) {
	klApply(e, "job", klJobManifest)
	e.k.ok("wait", "-n", klNS, "--for=condition=Complete", "job/retry", "--timeout=60s")
	pods := e.pods(klNS, "job-name=retry")
	if len(pods) != 1 {
		e.t.Fatalf("job pods %v, want one restarted in place", pods)
	}
	p := pods[0]
	if n := klPod(e, p.Name, "{.status.containerStatuses[0].restartCount}"); n != "1" {
		e.t.Errorf("job pod restartCount %s, want 1", n)
	}
	if p.Phase != "Succeeded" {
		e.t.Errorf("job pod phase %s, want Succeeded", p.Phase)
	}
	contains(e.t, "job logs", e.k.ok("logs", "-n", klNS, p.Name), "second try")
	contains(e.t, "job logs --previous", e.k.ok("logs", "-n", klNS, p.Name, "--previous"), "first try")
}
