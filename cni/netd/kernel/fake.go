package kernel

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"

	"rudder/cni/netd/netstate"
)

// Fake is an in-memory kernel that enforces the rules netd relies on: a
// route, neighbour or FDB entry needs its device, an onlink route needs the
// device up, a gateway must be on the device's subnet, and deleting a device
// deletes what lives on it. It is safe for concurrent use.
type Fake struct {
	mu       sync.Mutex
	underlay netstate.Underlay
	links    map[string]netstate.Link
	addrs    map[netstate.Addr]bool
	routes   map[netip.Prefix]netstate.Route
	neighs   map[neighKey]netstate.Neigh
	fdb      map[netstate.FDB]bool
	sysctls  map[string]string
	applies  int
	failNext error
}

type neighKey struct {
	dev string
	ip  netip.Addr
}

// NewFake returns a fake kernel with one underlay interface and
// ip_forward=0, like a fresh network namespace.
func NewFake(u netstate.Underlay) *Fake {
	return &Fake{
		underlay: u,
		links:    map[string]netstate.Link{},
		addrs:    map[netstate.Addr]bool{},
		routes:   map[netip.Prefix]netstate.Route{},
		neighs:   map[neighKey]netstate.Neigh{},
		fdb:      map[netstate.FDB]bool{},
		sysctls:  map[string]string{"net.ipv4.ip_forward": "0"},
	}
}

// Underlay finds the underlay by interface name or address ("" = default).
func (f *Fake) Underlay(spec string) (netstate.Underlay, error) {
	if spec == "" || spec == f.underlay.Name || spec == f.underlay.Addr.Addr().String() {
		return f.underlay, nil
	}
	return netstate.Underlay{}, fmt.Errorf("underlay %q: no such interface or address", spec)
}

// Current reports the objects in scope.
func (f *Fake) Current(scope netstate.Scope) (netstate.State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var s netstate.State
	for _, dev := range scope.Devices {
		if l, ok := f.links[dev]; ok {
			s.Links = append(s.Links, l)
		}
	}
	for a := range f.addrs {
		if slices.Contains(scope.Devices, a.Dev) {
			s.Addrs = append(s.Addrs, a)
		}
	}
	for _, r := range f.routes {
		s.Routes = append(s.Routes, r)
	}
	for _, n := range f.neighs {
		s.Neighs = append(s.Neighs, n)
	}
	for e := range f.fdb {
		s.FDB = append(s.FDB, e)
	}
	for _, k := range scope.Sysctls {
		s.Sysctls = append(s.Sysctls, netstate.Sysctl{Key: k, Value: f.sysctls[k]})
	}
	return s.Sorted(), nil
}

// State returns everything the fake holds.
func (f *Fake) State() netstate.State {
	f.mu.Lock()
	keys := make([]string, 0, len(f.sysctls))
	devs := make([]string, 0, len(f.links))
	for k := range f.sysctls {
		keys = append(keys, k)
	}
	for d := range f.links {
		devs = append(devs, d)
	}
	f.mu.Unlock()
	s, _ := f.Current(netstate.Scope{Devices: devs, Sysctls: keys})
	return s
}

// Dump renders everything the fake holds, one object per line.
func (f *Fake) Dump() string { return f.State().Dump() }

// Applies counts the Apply calls so far; tests use it to see that a
// converged state makes the syncer do nothing.
func (f *Fake) Applies() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.applies
}

// FailNextApply makes the next Apply return err and change nothing.
func (f *Fake) FailNextApply(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failNext = err
}

// Apply applies p in the documented order; it goes on after a failed step
// and returns all failures joined, as the netlink adapter does.
func (f *Fake) Apply(p netstate.Plan) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.applies++
	if err := f.failNext; err != nil {
		f.failNext = nil
		return err
	}
	var errs []error
	for _, r := range p.DelRoutes {
		if cur, ok := f.routes[r.Dst]; ok && cur == r {
			delete(f.routes, r.Dst)
		}
	}
	for _, n := range p.DelNeighs {
		delete(f.neighs, neighKey{n.Dev, n.IP})
	}
	for _, e := range p.DelFDB {
		delete(f.fdb, e)
	}
	for _, a := range p.DelAddrs {
		delete(f.addrs, a)
	}
	for _, name := range p.DelLinks {
		f.delLink(name)
	}
	for _, l := range p.AddLinks {
		errs = append(errs, f.addLink(l))
	}
	for _, l := range p.SetLinks {
		errs = append(errs, f.setLink(l))
	}
	for _, a := range p.AddAddrs {
		errs = append(errs, f.addAddr(a))
	}
	for _, s := range p.SetSysctls {
		f.sysctls[s.Key] = s.Value
	}
	for _, e := range p.AddFDB {
		errs = append(errs, f.addFDB(e))
	}
	for _, n := range p.SetNeighs {
		errs = append(errs, f.setNeigh(n))
	}
	for _, r := range p.SetRoutes {
		errs = append(errs, f.setRoute(r))
	}
	return errors.Join(errs...)
}
