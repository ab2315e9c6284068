package plugin

import (
	"errors"
	"fmt"
	"strings"

	"github.com/containernetworking/cni/pkg/skel"

	"rudder/ipam/hostlocal"
)

// GC releases every reservation and deletes every host veth of the network
// whose attachment is not in cni.dev/valid-attachments. It goes on past
// errors and reports them all.
func (p *Plugin) GC(args *skel.CmdArgs) error {
	conf, _, cerr := load("GC", args)
	if cerr != nil {
		return cerr
	}
	store, cerr := p.store(conf)
	if cerr != nil {
		return cerr
	}
	defer store.Close()
	var errs []error
	if _, err := hostlocal.GC(store, conf.ValidAttachments); err != nil {
		errs = append(errs, fmt.Errorf("release stale reservations: %w", err))
	}
	if err := p.gcVeths(conf); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return internal(err, "GC of network %s", conf.Network)
	}
	return nil
}

func (p *Plugin) gcVeths(conf *NetConf) error {
	veths, err := p.dp.ListHostVeths(HostVethPrefix)
	if err != nil {
		return fmt.Errorf("list host veths: %w", err)
	}
	keep := map[hostlocal.Attachment]bool{}
	for _, a := range conf.ValidAttachments {
		keep[a] = true
	}
	var failed []string
	for _, v := range veths {
		att, ok := parseVethAlias(conf.Network, v.Alias)
		if !ok || keep[att] {
			continue
		}
		if err := p.dp.DeleteVeth(v.Name); err != nil {
			failed = append(failed, fmt.Sprintf("%s (%v)", v.Name, err))
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("delete stale host veths: %s", strings.Join(failed, ", "))
	}
	return nil
}
