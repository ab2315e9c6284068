package plugin

import (
	"github.com/containernetworking/cni/pkg/skel"

	"rudder/ipam/hostlocal"
)

// Del removes the host veth (which takes the pod's end with it) and
// releases the address. It needs neither the pod's namespace nor the
// subnet file, and succeeds when there is nothing left to remove.
func (p *Plugin) Del(args *skel.CmdArgs) error {
	conf, att, cerr := load("DEL", args)
	if cerr != nil {
		return cerr
	}
	host := hostVethName(conf.Network, att)
	if err := p.dp.DeleteVeth(host); err != nil {
		return internal(err, "delete host veth %s of %s", host, att)
	}
	store, cerr := p.store(conf)
	if cerr != nil {
		return cerr
	}
	defer store.Close()
	if err := hostlocal.WithLock(store, func() error { return store.ReleaseByID(att) }); err != nil {
		return internal(err, "release the address of %s", att)
	}
	return nil
}
