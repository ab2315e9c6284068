package netd

import (
	"fmt"

	"github.com/containernetworking/plugins/pkg/ns"

	"rudder/cni/netd/forward"
	"rudder/cni/netd/kernel"
)

// openKernel returns the kernel adapter and forwarder, made for the
// configured namespace unless Deps brought them, and a function that
// releases what was opened here.
func (d *Daemon) openKernel() (Kernel, Forwarder, func(), error) {
	if d.deps.Kernel != nil && d.deps.Forwarder != nil {
		return d.deps.Kernel, d.deps.Forwarder, func() {}, nil
	}
	netNS, err := openNetNS(d.cfg.NetNS)
	if err != nil {
		return nil, nil, nil, err
	}
	closers := []func(){func() { _ = netNS.Close() }}
	release := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	k, fw := d.deps.Kernel, d.deps.Forwarder
	if k == nil {
		nl, err := kernel.NewNetlink(netNS)
		if err != nil {
			release()
			return nil, nil, nil, fmt.Errorf("netd: %w", err)
		}
		closers = append(closers, nl.Close)
		k = nl
	}
	if fw == nil {
		fw = forward.NewIPTables(netNS, forward.Config{ClusterCIDR: d.cfg.ClusterCIDR})
	}
	return k, fw, release, nil
}

func openNetNS(path string) (ns.NetNS, error) {
	if path == "" {
		netNS, err := ns.GetCurrentNS()
		if err != nil {
			return nil, fmt.Errorf("netd: open current network namespace: %w", err)
		}
		return netNS, nil
	}
	netNS, err := ns.GetNS(path)
	if err != nil {
		return nil, fmt.Errorf("netd: open network namespace %s: %w", path, err)
	}
	return netNS, nil
}
