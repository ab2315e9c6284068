package netstate

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// State is a set of kernel objects of one node: what netd wants, or what
// the kernel holds of the objects netd owns.
type State struct {
	Links   []Link
	Addrs   []Addr
	Sysctls []Sysctl
	Routes  []Route
	Neighs  []Neigh
	FDB     []FDB
}

// Scope says which kernel objects a State read from the kernel covers:
// the named VXLAN devices (and the addresses, neighbours and FDB entries on them), the
// routes netd owns, and the listed sysctls.
type Scope struct {
	Devices []string
	Sysctls []string
}

// Sorted returns a copy of s with every list in a stable order.
func (s State) Sorted() State {
	out := State{
		Links:   slices.Clone(s.Links),
		Addrs:   slices.Clone(s.Addrs),
		Sysctls: slices.Clone(s.Sysctls),
		Routes:  slices.Clone(s.Routes),
		Neighs:  slices.Clone(s.Neighs),
		FDB:     slices.Clone(s.FDB),
	}
	slices.SortFunc(out.Links, func(a, b Link) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(out.Addrs, func(a, b Addr) int { return cmp.Compare(a.String(), b.String()) })
	slices.SortFunc(out.Sysctls, func(a, b Sysctl) int { return cmp.Compare(a.Key, b.Key) })
	slices.SortFunc(out.Routes, func(a, b Route) int { return cmp.Compare(a.String(), b.String()) })
	slices.SortFunc(out.Neighs, func(a, b Neigh) int { return cmp.Compare(a.String(), b.String()) })
	slices.SortFunc(out.FDB, func(a, b FDB) int { return cmp.Compare(a.String(), b.String()) })
	return out
}

// Dump renders s one object per line in a stable order, in a form close
// to iproute2's; golden files and the fake kernel use it.
func (s State) Dump() string {
	var b strings.Builder
	s = s.Sorted()
	for _, l := range s.Links {
		fmt.Fprintln(&b, l)
	}
	for _, a := range s.Addrs {
		fmt.Fprintln(&b, a)
	}
	for _, x := range s.Sysctls {
		fmt.Fprintln(&b, x)
	}
	for _, r := range s.Routes {
		fmt.Fprintln(&b, r)
	}
	for _, n := range s.Neighs {
		fmt.Fprintln(&b, n)
	}
	for _, f := range s.FDB {
		fmt.Fprintln(&b, f)
	}
	return b.String()
}
