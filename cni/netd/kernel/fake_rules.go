package kernel

import (
	"fmt"

	"rudder/cni/netd/netstate"
)

// The fake's checks, each the kernel's refusal for the same mistake.

func (f *Fake) delLink(name string) {
	delete(f.links, name)
	for dst, r := range f.routes {
		if r.Dev == name {
			delete(f.routes, dst)
		}
	}
	for a := range f.addrs {
		if a.Dev == name {
			delete(f.addrs, a)
		}
	}
	for k := range f.neighs {
		if k.dev == name {
			delete(f.neighs, k)
		}
	}
	for e := range f.fdb {
		if e.Dev == name {
			delete(f.fdb, e)
		}
	}
}

func (f *Fake) addLink(l netstate.Link) error {
	if _, ok := f.links[l.Name]; ok || l.Name == f.underlay.Name {
		return fmt.Errorf("add link %s: file exists", l.Name)
	}
	if l.Parent != f.underlay.Name {
		return fmt.Errorf("add link %s: parent %s: no such device", l.Name, l.Parent)
	}
	f.links[l.Name] = l
	return nil
}

func (f *Fake) setLink(l netstate.Link) error {
	cur, ok := f.links[l.Name]
	if !ok {
		return fmt.Errorf("set link %s: no such device", l.Name)
	}
	cur.MTU, cur.MAC, cur.Up = l.MTU, l.MAC, l.Up
	f.links[l.Name] = cur
	return nil
}

func (f *Fake) addAddr(a netstate.Addr) error {
	if _, ok := f.links[a.Dev]; !ok {
		return fmt.Errorf("add %s: no such device", a)
	}
	f.addrs[a] = true
	return nil
}

func (f *Fake) addFDB(e netstate.FDB) error {
	if _, ok := f.links[e.Dev]; !ok {
		return fmt.Errorf("append fdb %s dst %s: device %s: no such device", e.MAC, e.Dst, e.Dev)
	}
	for have := range f.fdb {
		if have.Dev == e.Dev && have.MAC == e.MAC && e.MAC[0]&1 == 0 {
			return nil // like the kernel: append adds endpoints only to the all-zero and multicast MACs
		}
	}
	f.fdb[e] = true
	return nil
}

func (f *Fake) setNeigh(n netstate.Neigh) error {
	if _, ok := f.links[n.Dev]; !ok {
		return fmt.Errorf("set neigh %s: device %s: no such device", n.IP, n.Dev)
	}
	f.neighs[neighKey{n.Dev, n.IP}] = n
	return nil
}

func (f *Fake) setRoute(r netstate.Route) error {
	switch l, ok := f.links[r.Dev]; {
	case ok && r.Onlink && !l.Up:
		return fmt.Errorf("replace %s: network is down", r)
	case ok && r.Onlink:
	case ok:
		return fmt.Errorf("replace %s: gateway not reachable without onlink", r)
	case r.Dev != f.underlay.Name:
		return fmt.Errorf("replace %s: no such device", r)
	case !r.Onlink && !f.underlay.Addr.Masked().Contains(r.Gw):
		return fmt.Errorf("replace %s: nexthop has invalid gateway", r)
	}
	f.routes[r.Dst] = r
	return nil
}
