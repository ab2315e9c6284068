package e2e

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// webManifest is a multi-document manifest: a namespace, a netexec
// Deployment with a readiness probe and its Service.
const webManifest = `apiVersion: v1
kind: Namespace
metadata:
  name: e2e
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: e2e
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 10
      containers:
      - name: netexec
        image: registry.k8s.io/e2e-test-images/rudder:1.0
        args: ["netexec", "--http-port=8080", "--graceful-shutdown=3s"]
        ports: [{name: http, containerPort: 8080}]
        readinessProbe:
          httpGet: {path: /healthz, port: http}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: e2e
spec:
  type: NodePort
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
`

const daemonSetManifest = `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: everywhere
  namespace: e2e
spec:
  selector:
    matchLabels: {app: everywhere}
  template:
    metadata:
      labels: {app: everywhere}
    spec:
      containers:
      - name: netexec
        image: rudder
        args: ["netexec", "--http-port=9090"]
`

// TestLab is the end-to-end suite of issue 6 on a 3-node lab in
// nftables mode, driven by kubectl.
func TestLab(t *testing.T) {
	e := upLab(t, 3, "nftables", "198.18.240.0/24")
	t.Run("NginxNodePort", func(t *testing.T) { nginxNodePort(e.in(t)) })
	t.Run("BusyboxWget", func(t *testing.T) { busyboxWget(e.in(t)) })
	t.Run("ManifestSpreads", func(t *testing.T) { manifestSpreads(e.in(t)) })
	t.Run("PodToPod", func(t *testing.T) { podToPod(e.in(t)) })
	t.Run("ServiceFromEverywhere", func(t *testing.T) { serviceFromEverywhere(e.in(t)) })
	t.Run("LogsExec", func(t *testing.T) { logsExec(e.in(t)) })
	t.Run("RollingUpdate", func(t *testing.T) { rollingUpdate(e.in(t)) })
	t.Run("DaemonSet", func(t *testing.T) { daemonSet(e.in(t)) })
	t.Run("Job", func(t *testing.T) { job(e.in(t)) })
	t.Run("Cordon", func(t *testing.T) { cordon(e.in(t)) })
	t.Run("NoExecute", func(t *testing.T) { noExecute(e.in(t)) })
	t.Run("AgentKilled", func(t *testing.T) { agentKilled(e.in(t)) })
}

// TestLabIptables: services in iptables mode.
func TestLabIptables(t *testing.T) {
	e := upLab(t, 3, "iptables", "198.18.241.0/24")
	t.Run("ManifestSpreads", func(t *testing.T) { manifestSpreads(e.in(t)) })
	t.Run("ServiceFromEverywhere", func(t *testing.T) { serviceFromEverywhere(e.in(t)) })
}

// nginxNodePort is the classic first check of a fresh cluster.
func nginxNodePort(e *labEnv) {
	e.k.ok("create", "deployment", "nginx", "--image=nginx")
	e.k.ok("expose", "deployment", "nginx", "--port=80", "--type=NodePort")
	e.k.ok("rollout", "status", "deployment/nginx", "--timeout=60s")
	port := e.jsonpath("get", "service", "nginx", "-o", "jsonpath={.spec.ports[0].nodePort}")
	for _, from := range e.lab.Nodes() {
		for _, to := range e.lab.Nodes() {
			url := fmt.Sprintf("http://%s:%s/", to.IP, port)
			eventually(e.t, "nginx page at "+url+" from "+from.Name, 10*time.Second, func() error {
				body, err := nsGet(from.NetNSPath, url, 2*time.Second)
				if err == nil && !strings.Contains(body, "Welcome to nginx!") {
					err = fmt.Errorf("unexpected page: %.200s", body)
				}
				return err
			})
		}
	}
}

// busyboxWget: kubectl run of a busybox pod that fetches a Service by
// its ClusterIP.
func busyboxWget(e *labEnv) {
	ip := e.jsonpath("get", "service", "nginx", "-o", "jsonpath={.spec.clusterIP}")
	e.k.ok("run", "bb", "--image=busybox", "--restart=Never", "--", "wget", "-q", "-O", "-", "http://"+ip)
	e.k.ok("wait", "--for=jsonpath={.status.phase}=Succeeded", "pod/bb", "--timeout=60s")
	contains(e.t, "busybox wget", e.k.ok("logs", "bb"), "Welcome to nginx!")
}

// manifestSpreads applies a multi-document manifest and checks the 3
// replicas land on 3 nodes.
func manifestSpreads(e *labEnv) {
	out := e.k.ok("apply", "-f", e.k.file("web.yaml", webManifest))
	contains(e.t, "apply", out, "namespace/e2e", "deployment.apps/web", "service/web")
	e.k.ok("rollout", "status", "-n", "e2e", "deployment/web", "--timeout=60s")
	nodes := map[string]bool{}
	for _, p := range e.pods("e2e", "app=web") {
		nodes[p.Node] = true
	}
	if len(nodes) != 3 {
		e.t.Logf("nodes:\n%s\nevents:\n%s", e.k.ok("get", "nodes", "-o", `jsonpath={range .items[*]}{.metadata.name} {.spec.taints} {.status.conditions[?(@.type=="Ready")]}{"\n"}{end}`),
			e.k.ok("get", "events", "-n", "e2e"))
		e.t.Fatalf("3 replicas on %d nodes (%v), want one per node", len(nodes), nodes)
	}
}

// podToPod: every web pod reaches every other over the overlay.
func podToPod(e *labEnv) {
	pods := e.pods("e2e", "app=web")
	n := e.lab.Nodes()[0]
	for _, a := range pods {
		for _, b := range pods {
			if a.Name == b.Name {
				continue
			}
			url := fmt.Sprintf("http://%s:8080/dial?host=%s&port=8080&request=hostname&protocol=http&tries=1", a.IP, b.IP)
			body, err := nsGet(n.NetNSPath, url, 5*time.Second)
			if err != nil || !strings.Contains(body, b.Name) {
				e.t.Fatalf("%s (%s) → %s (%s): %v %s", a.Name, a.Node, b.Name, b.Node, err, body)
			}
		}
	}
}

// serviceFromEverywhere: the ClusterIP and the NodePort of every node
// answer from every node and from every pod.
func serviceFromEverywhere(e *labEnv) {
	ip := e.jsonpath("get", "service", "web", "-n", "e2e", "-o", "jsonpath={.spec.clusterIP}")
	port := e.jsonpath("get", "service", "web", "-n", "e2e", "-o", "jsonpath={.spec.ports[0].nodePort}")
	targets := []string{ip + ":80"}
	for _, n := range e.lab.Nodes() {
		targets = append(targets, fmt.Sprintf("%s:%s", n.IP, port))
	}
	for _, n := range e.lab.Nodes() {
		for _, target := range targets {
			eventually(e.t, "web at "+target+" from node "+n.Name, 10*time.Second, func() error {
				_, err := nsGet(n.NetNSPath, "http://"+target+"/hostname", 2*time.Second)
				return err
			})
		}
	}
	from := e.lab.Nodes()[0]
	for _, p := range e.pods("e2e", "app=web") {
		for _, target := range targets {
			host, tport, _ := strings.Cut(target, ":")
			url := fmt.Sprintf("http://%s:8080/dial?host=%s&port=%s&request=hostname&protocol=http&tries=3", p.IP, host, tport)
			body, err := nsGet(from.NetNSPath, url, 10*time.Second)
			if err != nil || !strings.Contains(body, `"responses":["`) {
				e.t.Fatalf("pod %s on %s → %s: %v %s", p.Name, p.Node, target, err, body)
			}
		}
	}
}

func logsExec(e *labEnv) {
	p := e.pods("e2e", "app=web")[0]
	contains(e.t, "kubectl logs", e.k.ok("logs", "-n", "e2e", p.Name), "netexec")
	contains(e.t, "kubectl exec", e.k.ok("exec", "-n", "e2e", p.Name, "--", "hostname"), p.Name)
	contains(e.t, "resolv.conf", e.k.ok("exec", "-n", "e2e", p.Name, "--", "cat", "/etc/resolv.conf"),
		"nameserver 10.96.0.10", "search e2e.svc.cluster.local svc.cluster.local cluster.local", "options ndots:5")
	contains(e.t, "service env", e.k.ok("exec", "-n", "e2e", p.Name, "--", "env"), "KUBERNETES_SERVICE_HOST=10.96.0.1")
}

// rollingUpdate sends requests through the ClusterIP, a new connection
// each, while the Deployment rolls: none may fail.
func rollingUpdate(e *labEnv) {
	ip := e.jsonpath("get", "service", "web", "-n", "e2e", "-o", "jsonpath={.spec.clusterIP}")
	from := e.lab.Nodes()[0]
	var ok, failed atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := nsGet(from.NetNSPath, "http://"+ip+"/hostname", 3*time.Second); err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
			} else {
				ok.Add(1)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	e.k.ok("set", "env", "-n", "e2e", "deployment/web", "ROLL=1")
	e.k.ok("rollout", "status", "-n", "e2e", "deployment/web", "--timeout=120s")
	time.Sleep(4 * time.Second) // old pods drain
	close(stop)
	wg.Wait()
	e.t.Logf("rolling update: %d requests ok, %d failed", ok.Load(), failed.Load())
	if failed.Load() > 0 || ok.Load() < 50 {
		e.t.Fatalf("rolling update: %d ok, %d failed (first: %v)", ok.Load(), failed.Load(), firstErr.Load())
	}
}

func daemonSet(e *labEnv) {
	e.k.ok("apply", "-f", e.k.file("ds.yaml", daemonSetManifest))
	e.k.ok("rollout", "status", "-n", "e2e", "daemonset/everywhere", "--timeout=60s")
	nodes := map[string]bool{}
	for _, p := range e.pods("e2e", "app=everywhere") {
		nodes[p.Node] = true
	}
	if len(nodes) != len(e.lab.Nodes()) {
		e.t.Fatalf("DaemonSet pods on %v, want every node", nodes)
	}
	e.k.ok("delete", "-n", "e2e", "daemonset/everywhere", "--wait=true", "--timeout=60s")
}

func job(e *labEnv) {
	e.k.ok("create", "job", "hello", "-n", "e2e", "--image=busybox", "--", "sh", "-c", "echo hello from a job")
	e.k.ok("wait", "-n", "e2e", "--for=condition=Complete", "job/hello", "--timeout=60s")
	contains(e.t, "job logs", e.k.ok("logs", "-n", "e2e", "job/hello"), "hello from a job")
}

// cordon keeps new pods off a node.
func cordon(e *labEnv) {
	e.k.ok("cordon", "node-1")
	defer e.k.ok("uncordon", "node-1")
	e.k.ok("scale", "-n", "e2e", "deployment/web", "--replicas=6")
	e.k.ok("rollout", "status", "-n", "e2e", "deployment/web", "--timeout=60s")
	on1 := 0
	for _, p := range e.pods("e2e", "app=web") {
		if p.Node == "node-1" {
			on1++
		}
	}
	if on1 != 1 {
		e.t.Fatalf("%d web pods on cordoned node-1, want only the one from before", on1)
	}
	e.k.ok("scale", "-n", "e2e", "deployment/web", "--replicas=3")
}

// noExecute: a NoExecute taint evicts the pods that do not tolerate it.
func noExecute(e *labEnv) {
	e.k.ok("taint", "nodes", "node-3", "e2e=evict:NoExecute")
	defer e.k.ok("taint", "nodes", "node-3", "e2e=evict:NoExecute-")
	eventually(e.t, "web pods leave node-3", 30*time.Second, func() error {
		for _, p := range e.pods("e2e", "app=web") {
			if p.Node == "node-3" {
				return fmt.Errorf("%s still on node-3", p.Name)
			}
		}
		return nil
	})
	e.k.ok("rollout", "status", "-n", "e2e", "deployment/web", "--timeout=60s")
}

// agentKilled: a node whose agent dies turns NotReady, its endpoints
// leave the Service and traffic goes on to the others.
func agentKilled(e *labEnv) {
	victim := "node-2"
	// Make sure a web pod runs on the victim.
	e.k.ok("scale", "-n", "e2e", "deployment/web", "--replicas=6")
	e.k.ok("rollout", "status", "-n", "e2e", "deployment/web", "--timeout=60s")
	var victimPods []string
	for _, p := range e.pods("e2e", "app=web") {
		if p.Node == victim {
			victimPods = append(victimPods, p.Name)
		}
	}
	if len(victimPods) == 0 {
		e.t.Fatalf("no web pod on %s", victim)
	}
	if s := e.jsonpath("get", "node", victim, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`); s != "True" {
		e.t.Fatalf("%s is %s before its agent is killed", victim, s)
	}
	if err := e.lab.KillAgent(2); err != nil {
		e.t.Fatal(err)
	}
	killed := time.Now()
	eventually(e.t, victim+" NotReady", 30*time.Second, func() error {
		s := e.jsonpath("get", "node", victim, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
		if s == "True" {
			return fmt.Errorf("%s still Ready", victim)
		}
		return nil
	})
	eventually(e.t, "endpoints of "+victim+" leave the service", 30*time.Second, func() error {
		out := e.jsonpath("get", "endpointslices", "-n", "e2e", "-l", "kubernetes.io/service-name=web", "-o",
			`jsonpath={range .items[*].endpoints[?(@.conditions.ready==true)]}{.targetRef.name}{" "}{end}`)
		for _, p := range victimPods {
			if strings.Contains(out, p) {
				return fmt.Errorf("%s still a ready endpoint: %s", p, out)
			}
		}
		return nil
	})
	e.t.Logf("%s NotReady and its endpoints gone %s after its agent died", victim, time.Since(killed))
	ip := e.jsonpath("get", "service", "web", "-n", "e2e", "-o", "jsonpath={.spec.clusterIP}")
	from := e.node("node-1")
	time.Sleep(2 * time.Second) // the proxies sync (min sync period 1 s)
	for i := range 30 {
		body, err := nsGet(from.NetNSPath, "http://"+ip+"/hostname", 3*time.Second)
		if err != nil {
			e.t.Fatalf("request %d after %s died: %v", i, victim, err)
		}
		for _, p := range victimPods {
			if body == p {
				e.t.Fatalf("request %d served by %s on the dead node", i, p)
			}
		}
	}
	if err := e.lab.RestartAgent(2); err != nil {
		e.t.Fatal(err)
	}
	eventually(e.t, victim+" Ready again", 30*time.Second, func() error {
		s := e.jsonpath("get", "node", victim, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
		if s != "True" {
			return fmt.Errorf("%s is %s", victim, s)
		}
		return nil
	})
	// The new agent takes the node's pods over: their containers run
	// again (restarted: a process runtime cannot adopt processes) and
	// they are ready endpoints again.
	eventually(e.t, "pods of "+victim+" ready again", 30*time.Second, func() error {
		for _, p := range e.pods("e2e", "app=web") {
			if p.Node == victim && !p.Ready {
				return fmt.Errorf("%s not ready", p.Name)
			}
		}
		return nil
	})
	e.k.ok("scale", "-n", "e2e", "deployment/web", "--replicas=3")
}
