package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containernetworking/plugins/pkg/ns"

	"rudder/lab"
	"rudder/lab/netns"
)

// labEnv is a lab cluster under test, driven by kubectl.
type labEnv struct {
	t   *testing.T
	lab *lab.Lab
	k   *kubectl
}

// upLab brings up a lab on its own underlay subnet and prefix and takes
// it down when the test ends, also on failure.
func upLab(t *testing.T, nodes int, proxyMode, subnet string) *labEnv {
	t.Helper()
	return upLabWith(t, labOptions{nodes: nodes, proxyMode: proxyMode, subnet: subnet})
}

// labOptions are what lab tests vary.
type labOptions struct {
	nodes             int
	proxyMode, subnet string
	// addons is the manifests directory (empty: none).
	addons    string
	agentArgs []string
}

func upLabWith(t *testing.T, o labOptions) *labEnv {
	t.Helper()
	nodes, proxyMode, subnet := o.nodes, o.proxyMode, o.subnet
	addons := o.addons
	if addons == "" {
		addons = filepath.Join(t.TempDir(), "none")
	}
	if os.Geteuid() != 0 {
		t.Fatal("the lab tests need root")
	}
	bin := rudderBin(t)
	prefix := netns.RunPrefix("rdrt")
	dir := filepath.Join(t.TempDir(), "lab")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	l, err := lab.Up(ctx, lab.Config{Dir: dir, Nodes: nodes, ProxyMode: proxyMode, Overlay: "vxlan",
		Underlay: subnet, Prefix: prefix, RudderBin: bin, WaitReady: true, AddonsDir: addons,
		ServerArgs: []string{"--node-monitor-grace-period=8s"}, AgentArgs: append([]string{"--node-lease-duration-seconds=8"}, o.agentArgs...),
		Out: testWriter{t}})
	if err != nil {
		_ = lab.Down(context.Background(), dir)
		t.Fatalf("lab up: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			dumpLabLogs(t, dir)
		}
		if err := l.Down(context.Background()); err != nil {
			t.Errorf("lab down: %v", err)
		}
		assertLabGone(t, dir, prefix)
	})
	k := &kubectl{t: t, bin: filepath.Join(kubectlDir, "kubectl.1.33"), workDir: t.TempDir(),
		env: append(os.Environ(), "KUBECONFIG="+l.Kubeconfig(), "HOME="+t.TempDir(), "KUBECACHEDIR="+t.TempDir())}
	return &labEnv{t: t, lab: l, k: k}
}

// in returns a copy whose failures go to the subtest t.
func (e *labEnv) in(t *testing.T) *labEnv {
	k := *e.k
	k.t = t
	return &labEnv{t: t, lab: e.lab, k: &k}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func dumpLabLogs(t *testing.T, dir string) {
	logs, _ := filepath.Glob(filepath.Join(dir, "logs", "*.log"))
	for _, f := range logs {
		b, _ := os.ReadFile(f)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		t.Logf("--- last lines of %s:\n%s", f, strings.Join(lines[max(0, len(lines)-40):], "\n"))
	}
}

// assertLabGone checks lab down left no namespace, link, cgroup, process
// or file behind.
func assertLabGone(t *testing.T, dir, prefix string) {
	entries, _ := os.ReadDir(netns.Dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			t.Errorf("namespace %s left behind", e.Name())
		}
	}
	ifaces, _ := net.Interfaces()
	for _, i := range ifaces {
		if strings.HasPrefix(i.Name, prefix) {
			t.Errorf("link %s left behind", i.Name)
		}
	}
	if cg, err := filepath.Glob("/sys/fs/cgroup/*/" + prefix); err == nil && len(cg) > 0 {
		t.Errorf("cgroups left behind: %v", cg)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("lab dir %s left behind", dir)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, _ := os.ReadFile(p)
		if strings.Contains(string(b), dir) && !zombie(filepath.Dir(p)) {
			t.Errorf("process %s left behind: %s", filepath.Base(filepath.Dir(p)), strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
}

func zombie(procDir string) bool {
	b, _ := os.ReadFile(filepath.Join(procDir, "stat"))
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(f) > 0 && (f[0] == "Z" || f[0] == "X")
}

// nsGet fetches url from inside a namespace over a new connection.
func nsGet(nsPath, url string, timeout time.Duration) (string, error) {
	tr := &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		var conn net.Conn
		err := ns.WithNetNSPath(nsPath, func(ns.NetNS) error {
			var err error
			d := net.Dialer{Timeout: timeout}
			conn, err = d.DialContext(ctx, network, addr)
			return err
		})
		return conn, err
	}}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: timeout}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return string(b), fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return string(b), err
}

// podInfo is what the tests need of a pod.
type podInfo struct {
	Name, Node, IP, Phase string
	Ready                 bool
}

func (e *labEnv) pods(namespace, selector string) []podInfo {
	e.t.Helper()
	var list struct {
		Items []struct {
			Metadata struct {
				Name              string
				DeletionTimestamp *string
			}
			Spec   struct{ NodeName string }
			Status struct {
				Phase      string
				PodIP      string
				Conditions []struct{ Type, Status string }
			}
		}
	}
	out := e.k.ok("get", "pods", "-n", namespace, "-l", selector, "-o", "json")
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		e.t.Fatalf("decode pods: %v", err)
	}
	var pods []podInfo
	for _, it := range list.Items {
		if it.Metadata.DeletionTimestamp != nil {
			continue
		}
		p := podInfo{Name: it.Metadata.Name, Node: it.Spec.NodeName, IP: it.Status.PodIP, Phase: it.Status.Phase}
		for _, c := range it.Status.Conditions {
			if c.Type == "Ready" {
				p.Ready = c.Status == "True"
			}
		}
		pods = append(pods, p)
	}
	return pods
}

func (e *labEnv) node(name string) lab.Node {
	for _, n := range e.lab.Nodes() {
		if n.Name == name {
			return n
		}
	}
	e.t.Fatalf("no lab node %s", name)
	return lab.Node{}
}

func (e *labEnv) jsonpath(args ...string) string {
	e.t.Helper()
	return strings.TrimSpace(e.k.ok(args...))
}
