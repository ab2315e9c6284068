package plugin

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"

	"rudder/ipam/hostlocal"
)

// Status answers whether ADD can work: 50 while the node has no pod range
// (or the subnet file is unreadable) or every address is in use, 51 while
// the IPAM store is unusable.
func (p *Plugin) Status(args *skel.CmdArgs) error {
	conf, _, cerr := load("STATUS", args)
	if cerr != nil {
		return cerr
	}
	nw, err := resolveNetwork(conf, p.readFile)
	if err != nil {
		return cniError(types.ErrPluginNotAvailable, "not ready: %v", err)
	}
	held, err := p.probeStore(conf)
	if err != nil {
		return cniError(types.ErrLimitedConnectivity,
			"IPAM store of network %s under %s is unusable: %v; pods cannot get addresses until it is fixed", conf.Network, conf.DataDir, err)
	}
	used := 0
	for _, r := range held {
		if _, ok := nw.Ranges.Find(r.IP); ok {
			used++
		}
	}
	if size := nw.Ranges.Size(); uint64(used) >= size {
		return cniError(types.ErrPluginNotAvailable, "not ready: no IP addresses available in range %s (%d usable addresses, all in use)", nw.Ranges, size)
	}
	return nil
}

// probeStore opens, locks and reads the store, and checks that a
// reservation could be written.
func (p *Plugin) probeStore(conf *NetConf) ([]hostlocal.Reservation, error) {
	s, err := p.openStore(conf.DataDir, conf.Network)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	var held []hostlocal.Reservation
	err = hostlocal.WithLock(s, func() (err error) {
		if held, err = s.List(); err != nil {
			return err
		}
		if d, ok := s.(interface{ Dir() string }); ok {
			return probeWritable(d.Dir())
		}
		return nil
	})
	return held, err
}

func probeWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".status-probe-")
	if err != nil {
		return fmt.Errorf("cannot write in %s: %w", dir, err)
	}
	name := f.Name()
	err = errors.Join(f.Close(), os.Remove(name))
	if err != nil {
		return fmt.Errorf("probe %s: %w", filepath.Base(name), err)
	}
	return nil
}
