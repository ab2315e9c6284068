package lab_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/containernetworking/plugins/pkg/ns"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"rudder/lab"
	"rudder/lab/netns"
)

// testUnderlay keeps the tests off the default 198.18.0.0/24 of a real lab.
const testUnderlay = "198.18.252.0/24"

// helperEnv makes the test binary run lab.Up for TestCrashMidwayThenDown.
const helperEnv = "RUDDER_LAB_TEST_HELPER_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperEnv); dir != "" {
		os.Exit(helperUp(dir))
	}
	code := m.Run()
	if builtBin != "" {
		_ = os.RemoveAll(filepath.Dir(builtBin))
	}
	os.Exit(code)
}

// helperUp brings up a lab and then blocks until it is killed.
func helperUp(dir string) int {
	cfg := standInConfig(dir, os.Getenv("RUDDER_BIN"), os.Getenv("RUDDER_LAB_TEST_PREFIX"))
	if _, err := lab.Up(context.Background(), cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("UP")
	select {}
}

func standInConfig(dir, bin, prefix string) lab.Config {
	return lab.Config{Dir: dir, Nodes: 2, Underlay: testUnderlay, Prefix: prefix, RudderBin: bin,
		AgentCommand: []string{"sleep", "600"}, ServerArgs: []string{"--log-level", "warn"},
		ReadyTimeout: 20 * time.Second}
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespaces, links, cgroups)")
	}
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// rudderBin is $RUDDER_BIN or a fresh build of ./cmd/rudder.
func rudderBin(t *testing.T) string {
	t.Helper()
	if b := os.Getenv("RUDDER_BIN"); b != "" {
		return b
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "rdrt-lab-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "rudder")
		out, err := exec.Command("go", "build", "-o", builtBin, "../cmd/rudder").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/rudder: %w: %s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// teardownOnFailure makes sure a failed test leaves nothing behind.
func teardownOnFailure(t *testing.T, dir, prefix string) {
	t.Cleanup(func() {
		if _, err := lab.Teardown(context.Background(), lab.DownOptions{Dir: dir, Prefix: prefix}); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
}

func TestUpDown(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "lab")
	prefix := netns.RunPrefix("rdrt")
	teardownOnFailure(t, dir, prefix)
	rootForward := readFile(t, "/proc/sys/net/ipv4/ip_forward")

	cfg := standInConfig(dir, rudderBin(t), prefix)
	cfg.AddonsDir = t.TempDir()
	addon := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lab-addon, namespace: kube-system}\ndata: {a: \"1\"}\n"
	if err := os.WriteFile(filepath.Join(cfg.AddonsDir, "cm.yaml"), []byte(addon), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := lab.Up(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkAddon(t, l)
	if _, err := lab.Up(ctx, standInConfig(dir, rudderBin(t), "")); err == nil || !strings.Contains(err.Error(), "rudder lab down") {
		t.Fatalf("second Up in the same dir: %v, want a refusal naming `rudder lab down`", err)
	}
	if _, err := lab.Up(ctx, standInConfig(filepath.Join(t.TempDir(), "other"), rudderBin(t), "")); err == nil || !strings.Contains(err.Error(), "overlaps") {
		t.Fatalf("second lab on the same underlay: %v, want a refusal", err)
	}
	if out := run(t, "ip", "-o", "addr", "show", "dev", prefix+"-br"); !strings.Contains(out, "198.18.252.254/24") {
		t.Fatalf("bridge address: %s", out)
	}
	nodes := l.Nodes()
	if len(nodes) != 2 {
		t.Fatalf("nodes %+v", nodes)
	}
	if opened, err := lab.Open(dir); err != nil || !slices.Equal(opened.Nodes(), nodes) {
		t.Fatalf("Open(%s): %v, %v; want %v", dir, opened, err, nodes)
	}
	for i, n := range nodes {
		if out := run(t, "nsenter", "--net="+n.NetNSPath, "ip", "-o", "addr", "show", "dev", "eth0"); !strings.Contains(out, fmt.Sprintf("198.18.252.%d/24", 11+i)) {
			t.Errorf("%s eth0: %s", n.Name, out)
		}
		if fw := run(t, "nsenter", "--net="+n.NetNSPath, "cat", "/proc/sys/net/ipv4/ip_forward"); strings.TrimSpace(fw) != "1" {
			t.Errorf("%s ip_forward = %q", n.Name, fw)
		}
		checkAgentPlacement(t, n, prefix, i+1)
	}
	if got := readFile(t, "/proc/sys/net/ipv4/ip_forward"); got != rootForward {
		t.Errorf("root ip_forward changed: %q → %q", rootForward, got)
	}
	checkHealthzFromNode(t, l, nodes[1].NetNSPath)
	podNetNS(t, dir, nodes[0].NetNSPath)
	checkStatus(t, dir)
	if err := l.KillAgent(1); err != nil {
		t.Fatal(err)
	}
	if err := l.RestartAgent(1); err != nil {
		t.Fatal(err)
	}
	if pid := l.Nodes()[0].AgentPID; pid == nodes[0].AgentPID || !alive(pid) {
		t.Errorf("restarted agent pid %d (was %d) not running", pid, nodes[0].AgentPID)
	}
	pids := []int{l.Nodes()[0].AgentPID, nodes[1].AgentPID}
	if err := l.Down(ctx); err != nil {
		t.Fatal(err)
	}
	assertGone(t, dir, prefix, pids)
	if err := l.Down(ctx); err != nil {
		t.Fatalf("second Down: %v", err)
	}
}

// checkAgentPlacement checks the stand-in agent runs in its node's
// namespace and cgroup.
func checkAgentPlacement(t *testing.T, n lab.Node, prefix string, i int) {
	t.Helper()
	cg := readFile(t, fmt.Sprintf("/proc/%d/cgroup", n.AgentPID))
	if want := fmt.Sprintf("0::/%s/node-%d\n", prefix, i); !strings.Contains(cg, want) {
		t.Errorf("agent of %s cgroup:\n%s\nwant %q", n.Name, cg, want)
	}
	var want, got syscall.Stat_t
	if err := syscall.Stat(n.NetNSPath, &want); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Stat(fmt.Sprintf("/proc/%d/ns/net", n.AgentPID), &got); err != nil {
		t.Fatal(err)
	}
	if want.Ino != got.Ino {
		t.Errorf("agent of %s is not in its namespace", n.Name)
	}
}

// podNetNS bind-mounts a namespace under the node's netns dir, as the
// agent does for pods; Down must unmount it.
func podNetNS(t *testing.T, dir, nsPath string) {
	t.Helper()
	pod := filepath.Join(dir, "nodes", "node-1", "netns", "pod-a")
	if err := os.WriteFile(pod, nil, 0o444); err != nil {
		t.Fatal(err)
	}
	run(t, "mount", "--bind", nsPath, pod)
}

// checkAddon checks the addon manifest was applied.
func checkAddon(t *testing.T, l *lab.Lab) {
	t.Helper()
	rc, err := clientcmd.BuildConfigFromFlags("", l.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	cm, err := cs.CoreV1().ConfigMaps("kube-system").Get(context.Background(), "lab-addon", metav1.GetOptions{})
	if err != nil || cm.Data["a"] != "1" {
		t.Fatalf("addon ConfigMap: %v %v", cm, err)
	}
}

// checkStatus checks `lab status` sees the server, the namespaces and the
// stand-in agents, and the API (which has no Node objects: no real agents).
func checkStatus(t *testing.T, dir string) {
	t.Helper()
	s, err := lab.GetStatus(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if !s.ServerAlive || s.APIError != "" || len(s.Nodes) != 2 || len(s.Links) != 3 {
		t.Fatalf("status %+v", s)
	}
	for _, n := range s.Nodes {
		if !n.NetNS || !n.AgentAlive || n.Ready != "absent" {
			t.Errorf("node status %+v", n)
		}
	}
}

// checkHealthzFromNode GETs https://<server>:6443/healthz from inside a
// node namespace, verifying the server with the lab's CA.
func checkHealthzFromNode(t *testing.T, l *lab.Lab, nsPath string) {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(readFile(t, filepath.Join(l.Dir(), "server", "tls", "ca.crt")))) {
		t.Fatal("no CA certificate")
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, DisableKeepAlives: true}
	c := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	var body string
	err := ns.WithNetNSPath(nsPath, func(ns.NetNS) error {
		// The connection is made on this (namespace-locked) thread.
		resp, err := c.Get(fmt.Sprintf("https://%s:6443/healthz", l.ServerIP()))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b := make([]byte, 64)
		n, _ := resp.Body.Read(b)
		body = fmt.Sprintf("%d %s", resp.StatusCode, b[:n])
		return nil
	})
	if err != nil || body != "200 ok" {
		t.Fatalf("healthz from %s: %q, %v", nsPath, body, err)
	}
}

// assertGone checks the lab left nothing: namespaces, links, cgroup,
// processes, directory.
func assertGone(t *testing.T, dir, prefix string, pids []int) {
	t.Helper()
	if m, _ := filepath.Glob(filepath.Join(netns.Dir, prefix+"-*")); len(m) > 0 {
		t.Errorf("namespaces left: %v", m)
	}
	if out := run(t, "ip", "-o", "link", "show"); strings.Contains(out, prefix+"-") {
		t.Errorf("links left:\n%s", out)
	}
	if m, _ := filepath.Glob("/sys/fs/cgroup/*/" + prefix); len(m) > 0 {
		t.Errorf("cgroups left: %v", m)
	}
	if m, _ := filepath.Glob("/sys/fs/cgroup/" + prefix); len(m) > 0 {
		t.Errorf("cgroups left: %v", m)
	}
	if mi := readFile(t, "/proc/self/mountinfo"); strings.Contains(mi, dir) || strings.Contains(mi, prefix+"-") {
		t.Errorf("mounts left:\n%s", mi)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("lab dir %s still exists (%v)", dir, err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for _, pid := range pids {
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if alive(pid) {
			t.Errorf("process %d still running", pid)
		}
	}
}

// TestCrashMidwayThenDown kills `lab up` (a subprocess) with SIGKILL once it
// has started the server, then removes the half-built lab from its state.
func TestCrashMidwayThenDown(t *testing.T) {
	requireRoot(t)
	dir := filepath.Join(t.TempDir(), "lab")
	prefix := netns.RunPrefix("rdrt")
	teardownOnFailure(t, dir, prefix)
	cmd := helper(t, dir, prefix)
	var server int
	waitFor(t, 20*time.Second, "state.json with a server PID", func() bool {
		st := readState(dir)
		if st == nil || st.Server == nil {
			return false
		}
		server = st.Server.PID
		return true
	})
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if err := lab.Down(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	assertGone(t, dir, prefix, []int{server})
}

// TestCrashAfterUpDownByPrefix kills a fully up `lab up` subprocess, loses
// the state file and removes the lab by its prefix.
func TestCrashAfterUpDownByPrefix(t *testing.T) {
	requireRoot(t)
	dir := filepath.Join(t.TempDir(), "lab")
	prefix := netns.RunPrefix("rdrt")
	teardownOnFailure(t, dir, prefix)
	cmd := helper(t, dir, prefix)
	var pids []int
	waitFor(t, 30*time.Second, "all agents recorded", func() bool {
		st := readState(dir)
		if st == nil || st.Server == nil || len(st.Nodes) != 2 || st.Nodes[1].Agent == nil {
			return false
		}
		pids = []int{st.Server.PID, st.Nodes[0].Agent.PID, st.Nodes[1].Agent.PID}
		return true
	})
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	for _, pid := range pids {
		if !alive(pid) {
			t.Fatalf("pid %d died with `lab up`; it should outlive it", pid)
		}
	}
	if err := os.Remove(filepath.Join(dir, "state.json")); err != nil {
		t.Fatal(err)
	}
	if _, err := lab.Teardown(context.Background(), lab.DownOptions{Dir: dir, Prefix: prefix}); err != nil {
		t.Fatal(err)
	}
	assertGone(t, dir, prefix, pids)
}

// helper starts this test binary as a `lab up` process.
func helper(t *testing.T, dir, prefix string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+dir, "RUDDER_BIN="+rudderBin(t), "RUDDER_LAB_TEST_PREFIX="+prefix)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

func readState(dir string) *lab.State {
	b, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil {
		return nil
	}
	st := &lab.State{}
	if json.Unmarshal(b, st) != nil {
		return nil
	}
	return st
}

func waitFor(t *testing.T, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// alive reports whether pid runs and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] != 'Z'
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v: %s", name, args, err, out)
	}
	return string(out)
}
