package plugin

import (
	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"

	"rudder/ipam/hostlocal"
)

// load checks the environment and the config of verb.
func load(verb string, args *skel.CmdArgs) (*NetConf, hostlocal.Attachment, *types.Error) {
	if err := checkArgs(verb, args); err != nil {
		return nil, hostlocal.Attachment{}, err
	}
	conf, err := ParseConfig(args.StdinData)
	if err != nil {
		return nil, hostlocal.Attachment{}, err
	}
	return conf, hostlocal.Attachment{ContainerID: args.ContainerID, IfName: args.IfName}, nil
}

// store opens the network's IPAM store.
func (p *Plugin) store(conf *NetConf) (hostlocal.Store, *types.Error) {
	s, err := p.openStore(conf.DataDir, conf.Network)
	if err != nil {
		return nil, internal(err, "open the IPAM store of network %s under %s (is dataDir writable?)", conf.Network, conf.DataDir)
	}
	return s, nil
}

// nodeSysctls are what a node needs for bridged pods: bridged traffic goes
// through iptables (service DNAT), and pods' traffic is routed.
func nodeSysctls() []Sysctl {
	return []Sysctl{
		{Key: "net/bridge/bridge-nf-call-iptables", Value: "1"},
		{Key: "net/ipv4/ip_forward", Value: "1"},
	}
}
