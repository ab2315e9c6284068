package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	utilexec "k8s.io/utils/exec"

	"rudder/controlplane/pki"
)

// fakeProvider knows one pod, default/web, with containers "app" and
// "sidecar". Log files live in dir; exec runs a few built-in commands;
// port-forward connects to a TCP echo server on loopback.
type fakeProvider struct {
	dir      string
	echoAddr string

	mu       sync.Mutex
	running  bool
	instance int // the current log file is app-<instance>.log
}

func (f *fakeProvider) Lookup(ns, pod, container string) error {
	if ns != "default" || pod != "web" {
		return fmt.Errorf("pod %s/%s: %w", ns, pod, ErrNotFound)
	}
	if container != "" && container != "app" && container != "sidecar" {
		return fmt.Errorf("container %s: %w", container, ErrNotFound)
	}
	return nil
}

func (f *fakeProvider) LogFile(ns, pod, container string, previous bool) (string, error) {
	if err := f.Lookup(ns, pod, container); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.instance
	if previous {
		n--
	}
	return filepath.Join(f.dir, fmt.Sprintf("%s-%d.log", container, n)), nil
}

func (f *fakeProvider) Running(ns, pod, container string) (bool, error) {
	if err := f.Lookup(ns, pod, container); err != nil {
		return false, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.running, nil
}

func (f *fakeProvider) setRunning(r bool) {
	f.mu.Lock()
	f.running = r
	f.mu.Unlock()
}

func (f *fakeProvider) restart() {
	f.mu.Lock()
	f.instance++
	f.mu.Unlock()
}

// Exec knows: cat (stdin to stdout), err <text> (to stderr), exit <code>,
// size (prints the first terminal size).
func (f *fakeProvider) Exec(ctx context.Context, ns, pod, container string, cmd []string, in io.Reader, out, errw io.WriteCloser, tty bool, resize <-chan TermSize) error {
	switch cmd[0] {
	case "cat":
		_, err := io.Copy(out, in)
		return err
	case "err":
		_, err := io.WriteString(errw, strings.Join(cmd[1:], " "))
		return err
	case "exit":
		code, _ := strconv.Atoi(cmd[1])
		return fmt.Errorf("run %v: %w", cmd, utilexec.CodeExitError{Err: errors.New("exit status " + cmd[1]), Code: code})
	case "size":
		select {
		case sz := <-resize:
			_, err := fmt.Fprintf(out, "%dx%d", sz.Width, sz.Height)
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return fmt.Errorf("unknown command %q", cmd[0])
}

func (f *fakeProvider) PortForward(ctx context.Context, ns, pod string, port int32, stream io.ReadWriteCloser) error {
	if port != 80 {
		return fmt.Errorf("nothing listens on port %d", port)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", f.echoAddr)
	if err != nil {
		return err
	}
	return Splice(ctx, conn, stream)
}

// env is a running server with its client credentials.
type env struct {
	srv      *Server
	p        *fakeProvider
	addr     string
	dir      string
	certFile string // client certificate from the cluster CA
	keyFile  string
	caFile   string // the server's self-signed certificate
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	ca, err := pki.LoadOrCreateCA(filepath.Join(dir, "ca"), "test-ca")
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, err := ca.LoadOrIssue(dir, "apiserver-kubelet-client", pki.Leaf{CommonName: "kube-apiserver-kubelet-client"})
	if err != nil {
		t.Fatal(err)
	}
	p := &fakeProvider{dir: filepath.Join(dir, "logs"), echoAddr: startEcho(t), running: true, instance: 1}
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	certDir := filepath.Join(dir, "kubelet")
	s, err := New(Config{
		Addr:            "127.0.0.1:0",
		NodeName:        "node-a",
		NodeIPs:         []net.IP{net.ParseIP("127.0.0.1")},
		CertDir:         certDir,
		ClientCAs:       ca.Pool(),
		Provider:        p,
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		LogPollInterval: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return &env{srv: s, p: p, addr: s.Addr().String(), dir: dir, certFile: certFile, keyFile: keyFile,
		caFile: filepath.Join(certDir, CertFile)}
}

// startEcho runs a TCP echo server on loopback.
func startEcho(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// restConfig is a client-go configuration that authenticates with the
// client certificate and trusts the kubelet's self-signed certificate.
func (e *env) restConfig() *rest.Config {
	return &rest.Config{
		Host: "https://" + e.addr,
		TLSClientConfig: rest.TLSClientConfig{
			CertFile: e.certFile, KeyFile: e.keyFile, CAFile: e.caFile,
		},
	}
}

// client returns an HTTPS client presenting certFile (none when empty).
func (e *env) client(t *testing.T, certFile, keyFile string) *http.Client {
	t.Helper()
	caPEM, err := os.ReadFile(e.caFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	tc := &tls.Config{RootCAs: roots}
	if certFile != "" {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			t.Fatal(err)
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	tr := &http.Transport{TLSClientConfig: tc}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 20 * time.Second}
}

// get fetches path with the cluster client certificate.
func (e *env) get(t *testing.T, path string) (int, string) {
	t.Helper()
	return e.do(t, e.client(t, e.certFile, e.keyFile), "GET", path)
}

func (e *env) do(t *testing.T, c *http.Client, method, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, "https://"+e.addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return resp.StatusCode, string(body)
}
