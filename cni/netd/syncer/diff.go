package syncer

import (
	"slices"

	"rudder/cni/netd/netstate"
)

// Diff returns the plan that turns current into desired. current is what
// the kernel holds within the scope netd owns (its devices, its routes), so
// anything in current that desired lacks is removed.
func Diff(desired, current netstate.State) netstate.Plan {
	var p netstate.Plan
	gone := diffLinks(&p, desired.Links, current.Links)
	onGone := func(dev string) bool { return gone[dev] }

	for _, a := range missing(current.Addrs, desired.Addrs) {
		if !onGone(a.Dev) {
			p.DelAddrs = append(p.DelAddrs, a)
		}
	}
	p.AddAddrs = missing(desired.Addrs, dropOn(current.Addrs, onGone, func(a netstate.Addr) string { return a.Dev }))

	for _, r := range missing(current.Routes, desired.Routes) {
		if !onGone(r.Dev) {
			p.DelRoutes = append(p.DelRoutes, r)
		}
	}
	p.SetRoutes = missing(desired.Routes, dropOn(current.Routes, onGone, func(r netstate.Route) string { return r.Dev }))

	for _, n := range missing(current.Neighs, desired.Neighs) {
		if !onGone(n.Dev) {
			p.DelNeighs = append(p.DelNeighs, n)
		}
	}
	p.SetNeighs = missing(desired.Neighs, dropOn(current.Neighs, onGone, func(n netstate.Neigh) string { return n.Dev }))

	for _, f := range missing(current.FDB, desired.FDB) {
		if !onGone(f.Dev) {
			p.DelFDB = append(p.DelFDB, f)
		}
	}
	p.AddFDB = missing(desired.FDB, dropOn(current.FDB, onGone, func(f netstate.FDB) string { return f.Dev }))

	p.SetSysctls = missing(desired.Sysctls, current.Sysctls)
	return p
}

// diffLinks plans the devices and returns the names of those that are
// deleted or re-created: the kernel drops every object on them.
func diffLinks(p *netstate.Plan, desired, current []netstate.Link) map[string]bool {
	gone := map[string]bool{}
	have := map[string]netstate.Link{}
	for _, l := range current {
		have[l.Name] = l
		if !slices.ContainsFunc(desired, func(d netstate.Link) bool { return d.Name == l.Name }) {
			p.DelLinks = append(p.DelLinks, l.Name)
			gone[l.Name] = true
		}
	}
	for _, l := range desired {
		cur, ok := have[l.Name]
		switch {
		case !ok:
			p.AddLinks = append(p.AddLinks, l)
			gone[l.Name] = true
		case !l.SameIdentity(cur):
			p.DelLinks = append(p.DelLinks, l.Name)
			p.AddLinks = append(p.AddLinks, l)
			gone[l.Name] = true
		case l != cur:
			p.SetLinks = append(p.SetLinks, l)
		}
	}
	return gone
}

// missing returns the elements of want that have does not hold, in want's order.
func missing[T comparable](want, have []T) []T {
	var out []T
	for _, x := range want {
		if !slices.Contains(have, x) {
			out = append(out, x)
		}
	}
	return out
}

// dropOn returns xs without the objects that live on a device for which gone is true.
func dropOn[T any](xs []T, gone func(string) bool, dev func(T) string) []T {
	return slices.DeleteFunc(slices.Clone(xs), func(x T) bool { return gone(dev(x)) })
}
