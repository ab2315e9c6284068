package lab

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// agentUser is the identity of the lab's agents in the static token file.
const agentUser = "system:node:lab"

// makeCgroups creates <cgroup2>/<prefix>/{server,node-i}.
func (l *Lab) makeCgroups(context.Context) error {
	dirs := []string{filepath.Join(l.state.Cgroup, "server")}
	for _, n := range l.state.Nodes {
		dirs = append(dirs, n.Cgroup)
	}
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create cgroup: %w", err)
		}
	}
	return nil
}

func (l *Lab) makeBridge(context.Context) error {
	plan, err := planAddresses(l.state.Underlay, len(l.state.Nodes))
	if err != nil {
		return err
	}
	return createBridge(l.state.Bridge, netip.PrefixFrom(plan.Server, plan.Prefix.Bits()))
}

func (l *Lab) serverDir() string { return filepath.Join(l.state.Dir, "server") }

// caFile is where the server writes its CA (server --data-dir …/tls/ca.crt).
func (l *Lab) caFile() string { return filepath.Join(l.serverDir(), "tls", "ca.crt") }

func (l *Lab) tokenFile() string { return filepath.Join(l.serverDir(), "tokens.csv") }

// agentToken reads the agents' token back from the token file.
func (l *Lab) agentToken() (string, error) {
	b, err := os.ReadFile(l.tokenFile())
	if err != nil {
		return "", fmt.Errorf("read agent token: %w", err)
	}
	for i, c := range b {
		if c == ',' {
			return string(b[:i]), nil
		}
	}
	return "", fmt.Errorf("token file %s: no token", l.tokenFile())
}

// writeTokenFile generates the agents' bearer token.
func (l *Lab) writeTokenFile() error {
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return fmt.Errorf("generate agent token: %w", err)
	}
	line := fmt.Sprintf("%s,%s,lab-agents,\"system:nodes\"\n", hex.EncodeToString(raw), agentUser)
	if err := os.WriteFile(l.tokenFile(), []byte(line), 0o600); err != nil {
		return fmt.Errorf("write token file: %w", err)
	}
	return nil
}

// startServer starts `rudder server` in the root namespace, in the lab's
// server cgroup, and records its PID.
func (l *Lab) startServer(context.Context) error {
	for _, d := range []string{l.serverDir(), filepath.Join(l.state.Dir, "logs")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}
	if err := l.writeTokenFile(); err != nil {
		return err
	}
	argv := append([]string{l.cfg.RudderBin, "server", "--data-dir", l.serverDir(),
		"--bind-address", l.state.ServerIP, "--advertise-address", l.state.ServerIP,
		"--secure-port", strconv.Itoa(l.cfg.SecurePort), "--write-kubeconfig", l.state.Kubeconfig,
		"--token-file", l.tokenFile()}, l.cfg.ServerArgs...)
	p, err := startInCgroup(argv, l.serverLog(), filepath.Join(l.state.Cgroup, "server"))
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.state.Server = p
	l.mu.Unlock()
	return l.save()
}

func (l *Lab) serverLog() string { return filepath.Join(l.state.Dir, "logs", "server.log") }

// waitServer waits until /readyz answers ok through the admin kubeconfig.
func (l *Lab) waitServer(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, l.cfg.ReadyTimeout)
	defer cancel()
	var last error
	for {
		if !l.state.Server.Alive() {
			return fmt.Errorf("the API server exited; the end of %s:\n%s", l.serverLog(), logTail(l.serverLog(), 15))
		}
		if last = l.readyz(ctx); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the API server is not ready after %s (%v); the end of %s:\n%s",
				l.cfg.ReadyTimeout, last, l.serverLog(), logTail(l.serverLog(), 15))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (l *Lab) readyz(ctx context.Context) error {
	cs, err := l.client()
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(rctx)
	if err != nil {
		return fmt.Errorf("GET /readyz: %w", err)
	}
	if string(body) != "ok" {
		return fmt.Errorf("GET /readyz: %q", body)
	}
	return nil
}

// client returns a clientset for the lab's admin kubeconfig.
func (l *Lab) client() (*kubernetes.Clientset, error) {
	rc, err := clientcmd.BuildConfigFromFlags("", l.state.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig: %w", err)
	}
	rc.Timeout = 5 * time.Second
	return kubernetes.NewForConfig(rc)
}
