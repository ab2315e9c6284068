package plugin

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	types100 "github.com/containernetworking/cni/pkg/types/100"

	"rudder/ipam/hostlocal"
)

// Add wires a pod to the node bridge: an address from IPAM, the bridge,
// a veth pair, addresses and routes in the pod, masquerade. On any failure
// it undoes what it did: no veth and no reservation are left.
func (p *Plugin) Add(args *skel.CmdArgs) error {
	conf, att, cerr := load("ADD", args)
	if cerr != nil {
		return cerr
	}
	nw, err := resolveNetwork(conf, p.readFile)
	if err != nil {
		return networkError(err)
	}
	store, cerr := p.store(conf)
	if cerr != nil {
		return cerr
	}
	defer store.Close()
	alloc, err := hostlocal.NewAllocator(hostlocal.Config{Ranges: nw.Ranges, Store: store})
	if err != nil {
		return cniError(types.ErrInvalidNetworkConfig, "pod range: %v", err)
	}
	ipc, cerr := allocate(store, alloc, att)
	if cerr != nil {
		return cerr
	}
	a := &adder{p: p, conf: conf, nw: nw, args: args, att: att, ipc: ipc, store: store}
	res, err := a.wire()
	if err != nil {
		a.undo()
		return internal(err, "add %s to network %s", att, conf.Network)
	}
	if err := printResult(res, conf, p.stdout); err != nil {
		a.undo()
		return err
	}
	return nil
}

// allocate reserves an address under the store's lock, mapping refusals to
// their codes.
func allocate(store hostlocal.Store, alloc *hostlocal.Allocator, att hostlocal.Attachment) (hostlocal.IPConfig, *types.Error) {
	var ipc hostlocal.IPConfig
	err := hostlocal.WithLock(store, func() (err error) {
		ipc, err = alloc.Allocate(att)
		return err
	})
	switch {
	case errors.Is(err, hostlocal.ErrAttachmentExists):
		return ipc, cniError(CodeAttachmentExists, "%v: the runtime must DEL this attachment before adding it again", err)
	case errors.Is(err, hostlocal.ErrExhausted):
		return ipc, cniError(CodeRangeExhausted, "%v: delete unused pods or give the node a larger podCIDR", err)
	case err != nil:
		return ipc, internal(err, "allocate an address for %s", att)
	}
	return ipc, nil
}

// adder is one ADD in progress.
type adder struct {
	p     *Plugin
	conf  *NetConf
	nw    Network
	args  *skel.CmdArgs
	att   hostlocal.Attachment
	ipc   hostlocal.IPConfig
	store hostlocal.Store
	host  string // set once the veth exists
}

func (a *adder) wire() (*types100.Result, error) {
	dp := a.p.dp
	bridge, err := dp.EnsureBridge(Bridge{Name: a.conf.Bridge, MTU: a.nw.MTU, Addrs: gatewayAddrs(a.nw.Ranges)})
	if err != nil {
		return nil, fmt.Errorf("ensure bridge %s: %w", a.conf.Bridge, err)
	}
	if err := dp.EnsureSysctls(nodeSysctls()); err != nil {
		return nil, err
	}
	if err := a.masquerade(); err != nil {
		return nil, err
	}
	host, pod, err := a.createVeth()
	if err != nil {
		return nil, err
	}
	routes := podRoutes(a.conf, a.ipc)
	err = dp.ConfigurePod(PodConfig{Netns: a.args.Netns, IfName: a.args.IfName, Addrs: []netip.Prefix{a.ipc.Address}, Routes: routes})
	if err != nil {
		return nil, fmt.Errorf("configure %s in %s: %w", a.args.IfName, a.args.Netns, err)
	}
	return buildResult(a.conf, a.args.Netns, bridge, host, pod, a.ipc, routes), nil
}

// masquerade ensures the rules under the store's lock, so that concurrent
// ADDs do not both append the same rule.
func (a *adder) masquerade() error {
	if !a.nw.IPMasq {
		return nil
	}
	return hostlocal.WithLock(a.store, func() error {
		for _, r := range a.nw.Ranges {
			m := Masquerade{Source: r.Subnet, Exclude: a.nw.masqExclude(r),
				Comment: fmt.Sprintf("rudder: masquerade pods of network %s leaving %s", a.conf.Network, a.nw.masqExclude(r))}
			if err := a.p.dp.EnsureMasquerade(m); err != nil {
				return fmt.Errorf("ensure masquerade of %s: %w", r.Subnet, err)
			}
		}
		return nil
	})
}

// createVeth creates the pair; a host end left by an ADD that died (its
// reservation is gone, or Allocate would have refused) is replaced once.
func (a *adder) createVeth() (host, pod Iface, err error) {
	v := Veth{
		HostName: hostVethName(a.conf.Network, a.att), Alias: vethAlias(a.conf.Network, a.att),
		Bridge: a.conf.Bridge, MTU: a.nw.MTU, Hairpin: a.conf.Hairpin, Netns: a.args.Netns, IfName: a.args.IfName,
	}
	for try := 0; ; try++ {
		host, pod, err = a.p.dp.CreateVeth(v)
		if errors.Is(err, ErrHostVethExists) && try == 0 {
			if err = a.p.dp.DeleteVeth(v.HostName); err == nil {
				continue
			}
		}
		break
	}
	switch {
	case errors.Is(err, ErrNoNetns):
		return host, pod, cniError(types.ErrInvalidEnvironmentVariables, "CNI_NETNS=%q: %v", a.args.Netns, err)
	case errors.Is(err, ErrPodIfaceExists):
		return host, pod, cniError(CodeAttachmentExists, "CNI_IFNAME=%q already exists in %s: pick another name or delete it", a.args.IfName, a.args.Netns)
	case err != nil:
		return host, pod, fmt.Errorf("create veth %s for %s: %w", v.HostName, a.att, err)
	}
	a.host = v.HostName
	return host, pod, nil
}

// undo removes the veth (if made) and the reservation, best effort.
func (a *adder) undo() {
	if a.host != "" {
		_ = a.p.dp.DeleteVeth(a.host)
	}
	_ = hostlocal.WithLock(a.store, func() error { return a.store.ReleaseByID(a.att) })
}
