package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// kubectlDir holds the real kubectl binaries, one per minor version.
const kubectlDir = "/usr/lib/google-cloud-sdk/bin"

// kubectlMinors are the kubectl versions the scenario runs with.
var kubectlMinors = []string{"1.27", "1.30", "1.33"}

// rudderBin is bin/rudder, built by `make e2e`.
func rudderBin(t *testing.T) string {
	t.Helper()
	b := os.Getenv("RUDDER_BIN")
	if b == "" {
		abs, _ := filepath.Abs("../../bin/rudder")
		b = abs
	}
	if _, err := os.Stat(b); err != nil {
		t.Fatalf("rudder binary %s: %v (run `make e2e`, which builds it)", b, err)
	}
	return b
}

// server is one bin/rudder server process.
type server struct {
	t          *testing.T
	dataDir    string
	port       int
	kubeconfig string
	cmd        *exec.Cmd
	log        *bytes.Buffer
	args       []string
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startServer runs bin/rudder server in a temp data dir and waits until it
// answers; the process is killed in t.Cleanup.
func startServer(t *testing.T, extra ...string) *server {
	t.Helper()
	dir := t.TempDir()
	s := &server{t: t, dataDir: dir, port: freePort(t), kubeconfig: filepath.Join(dir, "admin.kubeconfig"), args: extra}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *server) start() {
	s.t.Helper()
	s.log = &bytes.Buffer{}
	args := append([]string{"server", "--data-dir", s.dataDir, "--secure-port", strconv.Itoa(s.port),
		"--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--write-kubeconfig", s.kubeconfig, "--log-level", "warn"}, s.args...)
	s.cmd = exec.Command(rudderBin(s.t), args...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start server: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if s.ready() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.stop()
	s.t.Fatalf("server did not become ready; log:\n%s", s.log)
}

func (s *server) ready() bool {
	if _, err := os.Stat(s.kubeconfig); err != nil {
		return false
	}
	cs, err := s.clientset()
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
	return err == nil
}

// stop kills the server (SIGKILL: a crash is the worst case) and waits.
func (s *server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	_ = s.cmd.Wait()
	s.cmd = nil
	if s.t.Failed() {
		s.t.Logf("server log:\n%s", s.log)
	}
}

// restart stops the server and starts it again on the same data and port.
func (s *server) restart() {
	s.stop()
	s.start()
}

func (s *server) clientset() (*kubernetes.Clientset, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", s.kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = 1000, 2000
	return kubernetes.NewForConfig(cfg)
}

// kubectl runs one real kubectl binary against a server.
type kubectl struct {
	t       *testing.T
	bin     string
	s       *server
	env     []string
	workDir string
}

func newKubectl(t *testing.T, s *server, minor string) *kubectl {
	bin := filepath.Join(kubectlDir, "kubectl."+minor)
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("kubectl %s not installed at %s: %v", minor, bin, err)
	}
	return &kubectl{t: t, bin: bin, s: s, workDir: t.TempDir(),
		env: append(os.Environ(), "KUBECONFIG="+s.kubeconfig, "HOME="+t.TempDir(), "KUBECACHEDIR="+t.TempDir())}
}

// run returns stdout and stderr and the error.
func (k *kubectl) run(args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, k.bin, args...)
	cmd.Env, cmd.Dir = k.env, k.workDir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// ok runs kubectl and fails the test on error.
func (k *kubectl) ok(args ...string) string {
	k.t.Helper()
	out, errOut, err := k.run(args...)
	if err != nil {
		k.t.Fatalf("kubectl %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// fails runs kubectl, expects an error and returns stderr.
func (k *kubectl) fails(args ...string) string {
	k.t.Helper()
	out, errOut, err := k.run(args...)
	if err == nil {
		k.t.Fatalf("kubectl %s succeeded, want an error\nstdout: %s", strings.Join(args, " "), out)
	}
	return errOut
}

// file writes content into the kubectl work dir and returns its path.
func (k *kubectl) file(name, content string) string {
	p := filepath.Join(k.workDir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		k.t.Fatal(err)
	}
	return p
}

func contains(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Fatalf("%s: want %q in:\n%s", what, w, got)
		}
	}
}

func eventually(t *testing.T, what string, timeout time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		if err = f(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: %v", what, fmt.Errorf("after %s: %w", timeout, err))
}
