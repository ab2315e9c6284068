package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// The lab's upstream resolver: the node's /etc/resolv.conf names the
// machine's resolver, which the lab must never reach (nothing leaves the
// machine). Instead every node's resolv.conf (agent --resolv-conf) names
// a `rudder dns` in the root namespace on the server's underlay address,
// answering the names of hosts.upstream and refusing the rest. Pods with
// dnsPolicy Default, and the cluster DNS forwarding names outside the
// cluster zone, end there.

// UpstreamZone is the domain the lab's upstream resolver answers.
const UpstreamZone = "lab.example"

func (l *Lab) upstreamHosts() string { return filepath.Join(l.state.Dir, "upstream", "hosts") }

// ResolvConf is the nodes' resolver configuration.
func (l *Lab) ResolvConf() string { return filepath.Join(l.state.Dir, "upstream", "resolv.conf") }

// upstreamHostsContent lists the lab's outside names: the API server and
// one name per node.
func (l *Lab) upstreamHostsContent() string {
	s := fmt.Sprintf("%s apiserver.%s upstream.%s\n", l.state.ServerIP, UpstreamZone, UpstreamZone)
	for _, n := range l.state.Nodes {
		s += fmt.Sprintf("%s %s.%s\n", n.IP, n.Name, UpstreamZone)
	}
	return s
}

// startUpstreamDNS writes the hosts and resolv.conf files and starts the
// resolver in the server's cgroup.
func (l *Lab) startUpstreamDNS(context.Context) error {
	if err := os.MkdirAll(filepath.Dir(l.upstreamHosts()), 0o755); err != nil {
		return fmt.Errorf("create upstream dir: %w", err)
	}
	if err := os.WriteFile(l.upstreamHosts(), []byte(l.upstreamHostsContent()), 0o644); err != nil {
		return fmt.Errorf("write upstream hosts: %w", err)
	}
	resolv := fmt.Sprintf("# rudder lab %s: the lab's own upstream resolver\nnameserver %s\nsearch %s\n",
		l.state.Prefix, l.state.ServerIP, UpstreamZone)
	if err := os.WriteFile(l.ResolvConf(), []byte(resolv), 0o644); err != nil {
		return fmt.Errorf("write nodes' resolv.conf: %w", err)
	}
	argv := []string{l.cfg.RudderBin, "dns", "--kubernetes=false", "--upstream", "none", "--cache=false",
		"--listen", l.state.ServerIP + ":53", "--hosts-file", l.upstreamHosts(),
		"--metrics-addr", l.state.ServerIP + ":9153"}
	p, err := startInCgroup(argv, filepath.Join(l.state.Dir, "logs", "upstream-dns.log"), filepath.Join(l.state.Cgroup, "server"))
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.state.UpstreamDNS = p
	l.mu.Unlock()
	return l.save()
}
