package netdtest

import (
	"os"
	"os/exec"
	"testing"

	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	labnetns "rudder/lab/netns"
)

// RequireRoot skips the test unless it runs as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespaces)")
	}
}

// NewPrefix returns a random per-run namespace name prefix, rdrt-xxxxxx.
func NewPrefix(testing.TB) string { return labnetns.RunPrefix("rdrt") }

// NewNetNS creates the named network namespace under /run/netns (with
// lab/netns, lo up) and deletes it when the test ends.
func NewNetNS(t testing.TB, name string) ns.NetNS {
	t.Helper()
	named, err := labnetns.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := named.Delete(); err != nil {
			t.Error(err)
		}
	})
	netNS, err := ns.GetNS(named.Path)
	if err != nil {
		t.Fatalf("open netns %s: %v", name, err)
	}
	t.Cleanup(func() { _ = netNS.Close() })
	return netNS
}

// Handle returns a netlink handle whose requests act in netNS.
func Handle(t testing.TB, netNS ns.NetNS) *netlink.Handle {
	t.Helper()
	h, err := netlink.NewHandleAt(netns.NsHandle(int(netNS.Fd())))
	if err != nil {
		t.Fatalf("netlink handle in %s: %v", netNS.Path(), err)
	}
	t.Cleanup(h.Close)
	return h
}

// Run runs a command inside netNS (iptables, ip, …) and returns its combined output.
func Run(netNS ns.NetNS, name string, args ...string) (string, error) {
	var out []byte
	err := netNS.Do(func(ns.NetNS) error {
		var err error
		out, err = exec.Command(name, args...).CombinedOutput()
		return err
	})
	return string(out), err
}
