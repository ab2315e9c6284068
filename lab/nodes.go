package lab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"rudder/lab/netns"
)

// makeNodes creates every node's namespace, veth and directories, in
// parallel.
func (l *Lab) makeNodes(context.Context) error {
	plan, err := planAddresses(l.state.Underlay, len(l.state.Nodes))
	if err != nil {
		return err
	}
	errs := make([]error, len(l.state.Nodes))
	var wg sync.WaitGroup
	for i, n := range l.state.Nodes {
		wg.Go(func() {
			errs[i] = makeNode(n, l.state.Bridge, netip.PrefixFrom(plan.NodeIPs[i], plan.Prefix.Bits()), plan.Server)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func makeNode(n NodeState, bridge string, addr netip.Prefix, gw netip.Addr) error {
	for _, d := range []string{"data", "cni/net.d", "cni/bin", "netns"} {
		if err := mkdirAll(filepath.Join(n.Dir, d)); err != nil {
			return err
		}
	}
	ns, err := netns.Create(filepath.Base(n.NetNS))
	if err != nil {
		return fmt.Errorf("node %s: %w", n.Name, err)
	}
	if err := wireNode(ns, n.Link, bridge, addr, gw); err != nil {
		return fmt.Errorf("node %s: %w", n.Name, err)
	}
	return nil
}

// agentArgv is node n's agent command line (before nsenter).
func (l *Lab) agentArgv(n NodeState, token string) []string {
	if len(l.cfg.AgentCommand) > 0 {
		return slices.Clone(l.cfg.AgentCommand)
	}
	server := "https://" + l.state.ServerIP + ":" + fmt.Sprint(l.cfg.SecurePort)
	argv := []string{l.cfg.RudderBin, "agent", "--server", server, "--token", token,
		"--certificate-authority", l.caFile(), "--node-name", n.Name, "--node-ip", n.IP, "--iface", "eth0",
		"--data-dir", filepath.Join(n.Dir, "data"), "--cni-conf-dir", filepath.Join(n.Dir, "cni", "net.d"),
		"--cni-bin-dir", filepath.Join(n.Dir, "cni", "bin"), "--cni-plugin", l.cfg.CNIPlugin,
		"--netns-dir", filepath.Join(n.Dir, "netns"), "--cgroup-root", filepath.Join(n.Cgroup, "pods"),
		"--overlay", l.cfg.Overlay, "--proxy-mode", l.cfg.ProxyMode, "--resolv-conf", l.ResolvConf()}
	return append(argv, l.cfg.AgentArgs...)
}

func (l *Lab) agentLog(n NodeState) string {
	return filepath.Join(l.state.Dir, "logs", n.Name+".log")
}

// startAgents starts one agent per node and records their PIDs.
func (l *Lab) startAgents(context.Context) error {
	token, err := l.agentToken()
	if err != nil {
		return err
	}
	l.agentsStarted = time.Now()
	for i := range l.state.Nodes {
		l.mu.Lock()
		n := l.state.Nodes[i]
		l.state.Nodes[i].Argv = l.agentArgv(n, token)
		l.mu.Unlock()
		if err := l.startAgent(i); err != nil {
			return err
		}
	}
	return nil
}

// startAgent starts node i's (0-based) agent from its recorded argv.
func (l *Lab) startAgent(i int) error {
	l.mu.Lock()
	n := l.state.Nodes[i]
	l.mu.Unlock()
	p, err := startInCgroup(nsenterArgv(n.NetNS, n.Argv), l.agentLog(n), n.Cgroup)
	if err != nil {
		return fmt.Errorf("agent of %s: %w", n.Name, err)
	}
	l.mu.Lock()
	l.state.Nodes[i].Agent = p
	l.mu.Unlock()
	return l.save()
}

// node returns the 0-based index of node i (1-based, as in node-<i>).
func (l *Lab) node(i int) (int, error) {
	if i < 1 || i > len(l.state.Nodes) {
		return 0, fmt.Errorf("no node %d: the lab has nodes 1 to %d", i, len(l.state.Nodes))
	}
	return i - 1, nil
}

// KillAgent kills node i's agent (1-based, node-<i>) with SIGKILL and
// waits until it is gone; the node's namespace and pods stay.
func (l *Lab) KillAgent(i int) error {
	idx, err := l.node(i)
	if err != nil {
		return err
	}
	l.mu.Lock()
	p := l.state.Nodes[idx].Agent
	l.mu.Unlock()
	if err := p.signal(syscall.SIGKILL); err != nil {
		return err
	}
	deadline := time.Now().Add(5 * time.Second)
	for p.Alive() {
		if time.Now().After(deadline) {
			return fmt.Errorf("agent of node-%d (pid %d) still alive 5s after SIGKILL", i, p.PID)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// RestartAgent starts node i's agent again (killing it first if it runs).
func (l *Lab) RestartAgent(i int) error {
	if err := l.KillAgent(i); err != nil {
		return err
	}
	return l.startAgent(i - 1)
}

// waitNodesReady polls the Nodes until every lab node is Ready.
func (l *Lab) waitNodesReady(ctx context.Context) error {
	cs, err := l.client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, l.cfg.ReadyTimeout)
	defer cancel()
	for {
		if err := l.agentsAlive(); err != nil {
			return err
		}
		notReady, err := l.notReady(ctx, cs.CoreV1().Nodes())
		if err == nil && len(notReady) == 0 {
			l.prog.printf("  all %d nodes Ready %s after their agents started", len(l.state.Nodes), since(l.agentsStarted))
			return nil
		}
		select {
		case <-ctx.Done():
			return l.notReadyError(notReady, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

type nodeLister interface {
	List(ctx context.Context, opts metav1.ListOptions) (*corev1.NodeList, error)
}

// notReady lists the lab nodes that are missing or not Ready.
func (l *Lab) notReady(ctx context.Context, nodes nodeLister) ([]string, error) {
	all := make([]string, 0, len(l.state.Nodes))
	for _, n := range l.state.Nodes {
		all = append(all, n.Name)
	}
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	list, err := nodes.List(rctx, metav1.ListOptions{})
	if err != nil {
		return all, fmt.Errorf("list nodes: %w", err)
	}
	return notReadyNodes(all, list.Items), nil
}

// notReadyNodes returns the names in want that are absent from nodes,
// whose Ready condition is not True, or that still carry the not-ready
// or unreachable taints the node lifecycle controller removes shortly
// after Ready (the scheduler would skip them).
func notReadyNodes(want []string, nodes []corev1.Node) []string {
	ready := map[string]bool{}
	for _, n := range nodes {
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				ready[n.Name] = true
			}
		}
		for _, t := range n.Spec.Taints {
			if t.Key == corev1.TaintNodeNotReady || t.Key == corev1.TaintNodeUnreachable {
				ready[n.Name] = false
			}
		}
	}
	var out []string
	for _, w := range want {
		if !ready[w] {
			out = append(out, w)
		}
	}
	return out
}

func (l *Lab) notReadyError(notReady []string, listErr error) error {
	var b strings.Builder
	fmt.Fprintf(&b, "nodes not Ready after %s: %s", l.cfg.ReadyTimeout, strings.Join(notReady, ", "))
	if listErr != nil {
		fmt.Fprintf(&b, " (%v)", listErr)
	}
	for _, n := range l.state.Nodes {
		if slices.Contains(notReady, n.Name) {
			fmt.Fprintf(&b, "\nthe end of %s:\n%s", l.agentLog(n), logTail(l.agentLog(n), 10))
		}
	}
	return errors.New(b.String())
}

// agentsAlive fails, with the end of its log, when an agent has exited.
func (l *Lab) agentsAlive() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, n := range l.state.Nodes {
		if !n.Agent.Alive() {
			return fmt.Errorf("the agent of %s exited; the end of %s:\n%s", n.Name, l.agentLog(n), logTail(l.agentLog(n), 10))
		}
	}
	return nil
}

func mkdirAll(d string) error {
	if err := os.MkdirAll(d, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", d, err)
	}
	return nil
}
