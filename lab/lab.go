// Package lab builds a multi-node rudder cluster on one machine out of
// network namespaces: an underlay bridge in the root namespace holding the
// API server's address, one namespace per node joined to it by a veth, one
// agent per node, all processes below one cgroup v2 directory. Everything
// it is about to create is first recorded in <dir>/state.json, so Down
// removes it after any crash.
package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"rudder/internal/mountinfo"
	"rudder/lab/netns"
)

// Config describes a lab to bring up.
type Config struct {
	// Dir holds the state, logs, data and kubeconfig (default ./rudder-lab).
	Dir string
	// Nodes is the number of nodes (default 3).
	Nodes int
	// ProxyMode (iptables or nftables) and Overlay (vxlan or host-gw) are
	// passed to every agent.
	ProxyMode, Overlay string
	// Underlay is the bridge's subnet (default 198.18.0.0/24): the server
	// gets its last usable address, node i the address 10+i.
	Underlay string
	// Prefix names every namespace, link and cgroup (default rdr-<6 hex>).
	Prefix string
	// RudderBin is the rudder executable (default: this executable).
	RudderBin string
	// CNIPlugin is the rudder-cni binary (default: rudder-cni beside RudderBin).
	CNIPlugin string
	// AddonsDir holds manifests (*.yaml) applied once nodes are Ready; ""
	// or a missing directory applies none.
	AddonsDir string
	// SecurePort is the API server's port (default 6443).
	SecurePort int
	// ServerArgs and AgentArgs are appended to the server's and agents' flags.
	ServerArgs, AgentArgs []string
	// AgentCommand, when set, replaces `rudder agent …` on every node (it
	// still runs in the node's namespace and cgroup): a stand-in for tests.
	AgentCommand []string
	// WaitReady waits until every node is Ready (before the addons).
	WaitReady bool
	// ReadyTimeout bounds the wait for the server and for Ready nodes
	// (default 60 s).
	ReadyTimeout time.Duration
	// KeepOnFailure leaves a half-built lab in place when Up fails (for
	// reading its logs); by default Up removes it.
	KeepOnFailure bool
	// Out receives progress lines (nil: none).
	Out io.Writer
}

// Node is one lab node.
type Node struct {
	Name      string
	IP        netip.Addr
	NetNSPath string
	AgentPID  int
}

// Lab is a running lab.
type Lab struct {
	cfg   Config
	prog  *progress
	mu    sync.Mutex
	state *State
	// agentsStarted is when startAgents began, to time node readiness.
	agentsStarted time.Time
}

const (
	defaultDir      = "rudder-lab"
	defaultUnderlay = "198.18.0.0/24"
)

// labFiles are the files and directories a lab makes in its directory
// (Down removes them, also for a lab found only by its prefix).
func labFiles() []string { return []string{"logs", "server", "upstream", "nodes", "kubeconfig"} }

// withDefaults fills in defaults and checks the configuration.
func (c Config) withDefaults() (Config, error) {
	if c.Dir == "" {
		c.Dir = defaultDir
	}
	dir, err := filepath.Abs(c.Dir)
	if err != nil {
		return c, fmt.Errorf("lab dir %q: %w", c.Dir, err)
	}
	c.Dir = dir
	if c.Nodes == 0 {
		c.Nodes = 3
	}
	if c.Underlay == "" {
		c.Underlay = defaultUnderlay
	}
	if c.ProxyMode == "" {
		c.ProxyMode = "iptables"
	}
	if c.Overlay == "" {
		c.Overlay = "vxlan"
	}
	if c.ProxyMode != "iptables" && c.ProxyMode != "nftables" {
		return c, fmt.Errorf("--proxy-mode %q: want iptables or nftables", c.ProxyMode)
	}
	if c.Overlay != "vxlan" && c.Overlay != "host-gw" {
		return c, fmt.Errorf("--overlay %q: want vxlan or host-gw", c.Overlay)
	}
	if c.Nodes < 1 || c.Nodes > 200 {
		return c, fmt.Errorf("--nodes %d: want 1 to 200", c.Nodes)
	}
	if c.SecurePort == 0 {
		c.SecurePort = 6443
	}
	if c.ReadyTimeout == 0 {
		c.ReadyTimeout = 60 * time.Second
	}
	if c.Prefix == "" {
		c.Prefix = netns.RunPrefix("rdr")
	}
	if c.RudderBin == "" {
		if c.RudderBin, err = os.Executable(); err != nil {
			return c, fmt.Errorf("find the rudder executable: %w", err)
		}
	}
	if c.CNIPlugin == "" {
		c.CNIPlugin = filepath.Join(filepath.Dir(c.RudderBin), "rudder-cni")
	}
	if c.Out == nil {
		c.Out = io.Discard
	}
	return c, c.checkBinaries()
}

func (c Config) checkBinaries() error {
	if _, err := os.Stat(c.RudderBin); err != nil {
		return fmt.Errorf("rudder executable: %w", err)
	}
	if len(c.AgentCommand) == 0 {
		if _, err := os.Stat(c.CNIPlugin); err != nil {
			return fmt.Errorf("rudder-cni binary (build it with `make build`, or pass --cni-plugin): %w", err)
		}
	}
	return nil
}

// Up builds the lab described by cfg. On failure it removes what it made,
// unless cfg.KeepOnFailure.
func Up(ctx context.Context, cfg Config) (*Lab, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if os.Geteuid() != 0 {
		return nil, errors.New("rudder lab needs root (network namespaces, links, cgroups): run it with sudo")
	}
	l := &Lab{cfg: cfg, prog: newProgress(cfg.Out)}
	if err := l.plan(); err != nil {
		return nil, err
	}
	if err := l.build(ctx); err != nil {
		if !cfg.KeepOnFailure {
			if _, derr := Teardown(context.WithoutCancel(ctx), DownOptions{Dir: cfg.Dir}); derr != nil {
				err = errors.Join(err, fmt.Errorf("removing the half-built lab: %w", derr))
			} else {
				l.prog.printf("removed the half-built lab %s (--keep-on-failure keeps it)", cfg.Prefix)
			}
		} else {
			err = fmt.Errorf("%w (the lab is left in place: `rudder lab down --dir %s` removes it)", err, cfg.Dir)
		}
		return nil, err
	}
	return l, nil
}

// plan refuses a directory that holds a lab, then records everything the
// lab will create in state.json before any of it exists.
func (l *Lab) plan() error {
	cfg := l.cfg
	addrs, err := planAddresses(cfg.Underlay, cfg.Nodes)
	if err != nil {
		return err
	}
	bridge, veths, err := linkNames(cfg.Prefix, cfg.Nodes)
	if err != nil {
		return err
	}
	mounts, err := mountinfo.Read()
	if err != nil {
		return err
	}
	cg2, err := mountinfo.Cgroup2(mounts)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return fmt.Errorf("create lab dir: %w", err)
	}
	old, err := loadState(cfg.Dir)
	if err != nil {
		return fmt.Errorf("%w (remove it with `rudder lab down --dir %s`)", err, cfg.Dir)
	}
	if old != nil {
		return fmt.Errorf("a lab (prefix %s) is already up in %s: run `rudder lab down --dir %s` first", old.Prefix, cfg.Dir, cfg.Dir)
	}
	created := labFiles()
	for _, c := range created {
		// Down removes these: never adopt the user's own files.
		if _, err := os.Lstat(filepath.Join(cfg.Dir, c)); err == nil {
			return fmt.Errorf("%s already holds %s: use a new or empty --dir", cfg.Dir, c)
		}
	}
	if err := underlayFree(addrs.Prefix); err != nil {
		return err
	}
	st := &State{Prefix: cfg.Prefix, Dir: cfg.Dir, Underlay: addrs.Prefix.String(), Bridge: bridge,
		ServerIP: addrs.Server.String(), Cgroup: filepath.Join(cg2, cfg.Prefix),
		Kubeconfig: filepath.Join(cfg.Dir, "kubeconfig"),
		Created:    created}
	for i := 1; i <= cfg.Nodes; i++ {
		name := fmt.Sprintf("node-%d", i)
		nsName := fmt.Sprintf("%s-n%d", cfg.Prefix, i)
		st.Nodes = append(st.Nodes, NodeState{Name: name, IP: addrs.NodeIPs[i-1].String(),
			NetNS: filepath.Join(netns.Dir, nsName), Link: veths[i-1],
			Cgroup: filepath.Join(st.Cgroup, name), Dir: filepath.Join(cfg.Dir, "nodes", name)})
	}
	l.state = st
	return st.save()
}

// build creates what plan recorded, step by step.
func (l *Lab) build(ctx context.Context) error {
	st := l.state
	l.prog.printf("lab %s in %s: %d nodes on %s, overlay %s, proxy %s", st.Prefix, st.Dir, len(st.Nodes), st.Underlay, l.cfg.Overlay, l.cfg.ProxyMode)
	if w := bridgeFirewallWarning(); w != "" {
		l.prog.printf("warning: %s", w)
	}
	type step struct {
		name string
		run  func(context.Context) error
	}
	steps := []step{
		{"cgroup " + st.Cgroup, l.makeCgroups},
		{"underlay bridge " + st.Bridge + " " + st.ServerIP, l.makeBridge},
		{"start API server", l.startServer},
		{"start upstream DNS " + st.ServerIP + ":53", l.startUpstreamDNS},
		{fmt.Sprintf("create %d node namespaces", len(st.Nodes)), l.makeNodes},
		{"API server ready", l.waitServer},
		{fmt.Sprintf("start %d agents", len(st.Nodes)), l.startAgents},
	}
	if l.cfg.WaitReady {
		steps = append(steps, step{fmt.Sprintf("%d nodes Ready", len(st.Nodes)), l.waitNodesReady})
	}
	if l.cfg.AddonsDir != "" {
		steps = append(steps, step{"addons from " + l.cfg.AddonsDir, l.applyAddons})
	}
	for _, s := range steps {
		end := l.prog.step(s.name)
		err := s.run(ctx)
		end(err)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return nil
}

// Open returns the lab recorded in dir (brought up by another process, such
// as `rudder lab up`), for Nodes, KillAgent, RestartAgent and Down.
func Open(dir string) (*Lab, error) {
	st, err := stateFor(DownOptions{Dir: dir})
	if err != nil {
		return nil, err
	}
	if st == nil {
		return nil, fmt.Errorf("no lab in %s", dir)
	}
	cfg := Config{Dir: st.Dir}
	return &Lab{cfg: cfg, prog: newProgress(nil), state: st}, nil
}

// save records the state under the lock.
func (l *Lab) save() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state.save()
}

// Kubeconfig is the path of the admin kubeconfig.
func (l *Lab) Kubeconfig() string { return l.state.Kubeconfig }

// Prefix is the lab's run prefix (names of namespaces, links, cgroup).
func (l *Lab) Prefix() string { return l.state.Prefix }

// Dir is the lab's directory.
func (l *Lab) Dir() string { return l.state.Dir }

// ServerIP is the API server's address on the underlay.
func (l *Lab) ServerIP() netip.Addr { return netip.MustParseAddr(l.state.ServerIP) }

// Nodes lists the lab's nodes.
func (l *Lab) Nodes() []Node {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Node, 0, len(l.state.Nodes))
	for _, n := range l.state.Nodes {
		node := Node{Name: n.Name, IP: netip.MustParseAddr(n.IP), NetNSPath: n.NetNS}
		if n.Agent != nil {
			node.AgentPID = n.Agent.PID
		}
		out = append(out, node)
	}
	return out
}

// Down removes the lab.
func (l *Lab) Down(ctx context.Context) error {
	_, err := Teardown(ctx, DownOptions{Dir: l.state.Dir})
	return err
}
