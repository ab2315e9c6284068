package e2e

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/vishvananda/netlink"

	"rudder/lab"
)

// dnsNS is the namespace of the DNS lab tests' workloads.
const dnsNS = "dnstest"

// dnsManifest: a ClusterIP Service with a named port, a headless Service
// over the same pods, a StatefulSet behind its own headless Service (pod
// hostnames), an ExternalName pointing at a name only the lab's upstream
// resolver knows, and a client pod to ask from.
const dnsManifest = `apiVersion: v1
kind: Namespace
metadata:
  name: dnstest
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: dnstest
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: netexec
        image: rudder
        args: ["netexec", "--http-port=8080"]
        readinessProbe:
          httpGet: {path: /healthz, port: 8080}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: dnstest
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: 8080, protocol: TCP}
---
apiVersion: v1
kind: Service
metadata:
  name: web-headless
  namespace: dnstest
spec:
  clusterIP: None
  selector: {app: web}
  ports:
  - {name: http, port: 8080, protocol: TCP}
---
apiVersion: v1
kind: Service
metadata:
  name: db
  namespace: dnstest
spec:
  clusterIP: None
  selector: {app: db}
  ports:
  - {name: tcp, port: 9090}
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: dnstest
spec:
  serviceName: db
  replicas: 1
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      containers:
      - name: netexec
        image: rudder
        args: ["netexec", "--http-port=9090"]
---
apiVersion: v1
kind: Service
metadata:
  name: ext
  namespace: dnstest
spec:
  type: ExternalName
  externalName: apiserver.lab.example
---
apiVersion: v1
kind: Pod
metadata:
  name: client
  namespace: dnstest
spec:
  containers:
  - name: netexec
    image: rudder
    args: ["netexec", "--http-port=8080"]
`

// upDNSLab brings up a lab with the addons of deploy/ (the cluster DNS)
// and the DNS test workloads, and waits for them.
func upDNSLab(t *testing.T, subnet string, agentArgs ...string) *labEnv {
	deploy, err := filepath.Abs("../../deploy")
	if err != nil {
		t.Fatal(err)
	}
	e := upLabWith(t, labOptions{nodes: 2, proxyMode: "nftables", subnet: subnet, addons: deploy, agentArgs: agentArgs})
	e.k.ok("apply", "-f", e.k.file("dns.yaml", dnsManifest))
	e.k.ok("-n", "kube-system", "rollout", "status", "deployment/rudder-dns", "--timeout=60s")
	e.k.ok("-n", dnsNS, "rollout", "status", "deployment/web", "--timeout=60s")
	e.k.ok("-n", dnsNS, "rollout", "status", "statefulset/db", "--timeout=60s")
	e.k.ok("-n", dnsNS, "wait", "--for=condition=Ready", "pod/client", "--timeout=60s")
	// Ready DNS pods still need the client node's proxy to program the
	// kube-dns endpoints; until then queries are rejected.
	eventually(t, "the cluster DNS answers the client pod", 20*time.Second, func() error {
		out, _, err := e.k.run("exec", "-n", dnsNS, "client", "--", rudderBin(t), "dig", "+short", "dns-version.cluster.local", "TXT")
		if err == nil && !strings.Contains(out, "1.1.0") {
			err = fmt.Errorf("dns-version: %q", out)
		}
		return err
	})
	return e
}

// dnsExec runs a command in the client pod.
func (e *labEnv) dnsExec(cmd ...string) string {
	e.t.Helper()
	return e.k.ok(append([]string{"exec", "-n", dnsNS, "client", "--"}, cmd...)...)
}

// dig runs rudder dig in the client pod against its resolv.conf's server.
func (e *labEnv) dig(args ...string) string {
	e.t.Helper()
	return strings.TrimSpace(e.dnsExec(append([]string{rudderBin(e.t), "dig"}, args...)...))
}

// getent resolves like a program in the pod does: glibc, resolv.conf's
// search list and ndots. It returns the addresses.
func (e *labEnv) getent(name string) []string {
	e.t.Helper()
	out := e.dnsExec("getent", "ahostsv4", name)
	var ips []string
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[1] == "STREAM" {
			ips = append(ips, f[0])
		}
	}
	return ips
}

// TestLabDNS: the cluster DNS of deploy/dns.yaml, installed by lab up,
// answers every record form of the DNS specification to a pod, through
// the pod's own resolver configuration.
func TestLabDNS(t *testing.T) {
	e := upDNSLab(t, "198.18.243.0/24")
	webIP := e.jsonpath("get", "svc", "-n", dnsNS, "web", "-o", "jsonpath={.spec.clusterIP}")
	webPods := e.pods(dnsNS, "app=web")
	var webPodIPs []string
	for _, p := range webPods {
		webPodIPs = append(webPodIPs, p.IP)
	}
	slices.Sort(webPodIPs)
	clientIP := e.jsonpath("get", "pod", "-n", dnsNS, "client", "-o", "jsonpath={.status.podIP}")
	serverIP := e.lab.ServerIP().String()

	resolv := e.dnsExec("cat", "/etc/resolv.conf")
	contains(t, "pod resolv.conf", resolv, "nameserver 10.96.0.10", "search dnstest.svc.cluster.local svc.cluster.local cluster.local", "ndots:5")

	t.Run("short name through the search path", func(t *testing.T) {
		e := e.in(t)
		if got := e.getent("web"); !slices.Equal(got, []string{webIP}) {
			t.Errorf("web: %v, want [%s]", got, webIP)
		}
		if got := e.getent("kubernetes.default"); !slices.Equal(got, []string{"10.96.0.1"}) {
			t.Errorf("kubernetes.default: %v, want [10.96.0.1]", got)
		}
	})
	t.Run("FQDN", func(t *testing.T) {
		e := e.in(t)
		if got := e.getent("web.dnstest.svc.cluster.local."); !slices.Equal(got, []string{webIP}) {
			t.Errorf("web FQDN: %v, want [%s]", got, webIP)
		}
		if got := e.dig("+short", "WEB.DnsTest.svc.cluster.local"); got != webIP {
			t.Errorf("mixed-case query: %q, want %s", got, webIP)
		}
	})
	t.Run("headless", func(t *testing.T) {
		e := e.in(t)
		got := strings.Fields(e.dig("+short", "web-headless.dnstest.svc.cluster.local"))
		slices.Sort(got)
		if !slices.Equal(got, webPodIPs) {
			t.Errorf("headless web: %v, want the ready pods %v", got, webPodIPs)
		}
		db := e.pods(dnsNS, "app=db")
		if len(db) != 1 {
			t.Fatalf("db pods: %v", db)
		}
		if got := e.getent("db-0.db"); !slices.Equal(got, []string{db[0].IP}) {
			t.Errorf("StatefulSet pod name db-0.db: %v, want [%s]", got, db[0].IP)
		}
	})
	t.Run("SRV", func(t *testing.T) {
		e := e.in(t)
		got := e.dig("+short", "_http._tcp.web.dnstest.svc.cluster.local", "SRV")
		contains(t, "SRV of web", got, "80 web.dnstest.svc.cluster.local.")
		got = e.dig("+short", "_tcp._tcp.db.dnstest.svc.cluster.local", "SRV")
		contains(t, "SRV of headless db", got, "9090 db-0.db.dnstest.svc.cluster.local.")
	})
	t.Run("PTR", func(t *testing.T) {
		e := e.in(t)
		if got := e.dig("+short", "-x", webIP); got != "web.dnstest.svc.cluster.local." {
			t.Errorf("PTR of %s: %q", webIP, got)
		}
	})
	t.Run("ExternalName through the upstream", func(t *testing.T) {
		e := e.in(t)
		got := e.dig("+short", "ext.dnstest.svc.cluster.local")
		contains(t, "ExternalName ext", got, "apiserver.lab.example.")
		if got := e.getent("ext"); !slices.Contains(got, serverIP) {
			t.Errorf("ext resolved to %v, want the lab server %s (CNAME chased through the upstream)", got, serverIP)
		}
		if got := e.getent("node-1." + lab.UpstreamZone); len(got) != 1 {
			t.Errorf("forwarded name node-1.%s: %v", lab.UpstreamZone, got)
		}
	})
	t.Run("pod record", func(t *testing.T) {
		e := e.in(t)
		dashed := strings.ReplaceAll(clientIP, ".", "-")
		if got := e.dig("+short", dashed+".dnstest.pod.cluster.local"); got != clientIP {
			t.Errorf("pod record %s: %q, want %s", dashed, got, clientIP)
		}
	})
	t.Run("NXDOMAIN and NODATA", func(t *testing.T) {
		e := e.in(t)
		contains(t, "missing service", e.dig("nosuch.dnstest.svc.cluster.local"), "status: NXDOMAIN", "SOA")
		contains(t, "AAAA of an IPv4 service", e.dig("web.dnstest.svc.cluster.local", "AAAA"), "status: NOERROR", "ANSWER: 0", "SOA")
		contains(t, "over TCP", e.dig("+tcp", "dns-version.cluster.local", "TXT"), `"1.1.0"`)
	})
	t.Run("new service appears", func(t *testing.T) {
		e := e.in(t)
		e.k.ok("-n", dnsNS, "create", "service", "clusterip", "late", "--tcp=81:8080")
		ip := e.jsonpath("get", "svc", "-n", dnsNS, "late", "-o", "jsonpath={.spec.clusterIP}")
		start := time.Now()
		eventually(t, "late service resolvable", 20*time.Second, func() error {
			if got := e.dig("+short", "late.dnstest.svc.cluster.local"); got != ip {
				return fmt.Errorf("late: %q, want %s", got, ip)
			}
			return nil
		})
		t.Logf("new service resolvable %v after create", time.Since(start).Round(time.Millisecond))
	})
	t.Run("metrics", func(t *testing.T) {
		e := e.in(t)
		dnsPods := e.pods("kube-system", "k8s-app=kube-dns")
		if len(dnsPods) != 2 {
			t.Fatalf("dns pods: %v, want 2", dnsPods)
		}
		out := e.dnsExec("busybox", "wget", "-qO-", "http://"+dnsPods[0].IP+":9153/metrics")
		if !regexp.MustCompile(`rudder_dns_requests_total\{[^}]*\} [1-9]`).MatchString(out) {
			t.Errorf("metrics of %s lack counted requests:\n%.2000s", dnsPods[0].Name, out)
		}
	})
	// Last: it restarts the DNS pods.
	t.Run("autopath", func(t *testing.T) {
		e := e.in(t)
		// Without autopath, the first search-path expansion of
		// "kubernetes.default" is an NXDOMAIN the pod's resolver walks past.
		contains(t, "without autopath", e.dig("kubernetes.default.dnstest.svc.cluster.local"), "status: NXDOMAIN")
		e.k.ok("-n", "kube-system", "patch", "deployment", "rudder-dns", "--type=json",
			"-p", `[{"op":"add","path":"/spec/template/spec/containers/0/args/-","value":"--autopath"}]`)
		e.k.ok("-n", "kube-system", "rollout", "status", "deployment/rudder-dns", "--timeout=60s")
		// The server knows the client's namespace from its address and
		// answers the expansion with a CNAME to the name that exists.
		eventually(t, "autopath answer", 20*time.Second, func() error {
			got := e.dig("+short", "kubernetes.default.dnstest.svc.cluster.local")
			if !strings.Contains(got, "kubernetes.default.svc.cluster.local.") || !strings.Contains(got, "10.96.0.1") {
				return fmt.Errorf("kubernetes.default.dnstest.svc.cluster.local: %q, want a CNAME to kubernetes.default.svc.cluster.local. and 10.96.0.1", got)
			}
			return nil
		})
		if got := e.getent("kubernetes.default"); !slices.Equal(got, []string{"10.96.0.1"}) {
			t.Errorf("kubernetes.default with autopath: %v", got)
		}
	})
}

// TestLabNodeLocalDNS: with the agents' node-local cache, pods resolve
// through 169.254.20.10 on their node, that traffic leaves no conntrack
// entries, and the cache reaches the cluster DNS over TCP only.
func TestLabNodeLocalDNS(t *testing.T) {
	e := upDNSLab(t, "198.18.244.0/24", "--node-local-dns")
	contains(t, "pod resolv.conf", e.dnsExec("cat", "/etc/resolv.conf"), "nameserver 169.254.20.10")
	webIP := e.jsonpath("get", "svc", "-n", dnsNS, "web", "-o", "jsonpath={.spec.clusterIP}")
	for range 3 {
		if got := e.getent("web"); !slices.Equal(got, []string{webIP}) {
			t.Fatalf("web through the node-local cache: %v, want [%s]", got, webIP)
		}
	}
	if got := e.getent("node-2." + lab.UpstreamZone); len(got) != 1 {
		t.Errorf("forwarded name through both caches: %v", got)
	}
	nodeNS := e.node(e.jsonpath("get", "pod", "-n", dnsNS, "client", "-o", "jsonpath={.spec.nodeName}")).NetNSPath
	var local, udpToCluster, tcpToCluster int
	err := ns.WithNetNSPath(nodeNS, func(ns.NetNS) error {
		flows, err := netlink.ConntrackTableList(netlink.ConntrackTable, netlink.FAMILY_V4)
		if err != nil {
			return err
		}
		for _, f := range flows {
			switch {
			case f.Forward.DstIP.String() == "169.254.20.10":
				local++
			case f.Forward.DstIP.String() == "10.96.0.10" && f.Forward.DstPort == 53 && f.Forward.Protocol == 17:
				udpToCluster++
			case f.Forward.DstIP.String() == "10.96.0.10" && f.Forward.DstPort == 53 && f.Forward.Protocol == 6:
				tcpToCluster++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("conntrack in %s: %v", nodeNS, err)
	}
	if local != 0 || udpToCluster != 0 {
		t.Errorf("conntrack has %d entries to 169.254.20.10 and %d UDP ones to 10.96.0.10:53, want none", local, udpToCluster)
	}
	if tcpToCluster == 0 {
		t.Errorf("no TCP connection from the node-local cache to 10.96.0.10:53 in conntrack")
	}
}
