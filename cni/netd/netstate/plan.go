package netstate

import "fmt"

// Plan is the list of changes that turns the kernel's State into the
// desired one. An adapter applies it in field order: removals first (routes,
// neighbours, FDB entries, addresses, then links), then links, addresses,
// sysctls, FDB entries, neighbours and routes, so that every object finds
// the device it needs.
type Plan struct {
	DelRoutes []Route
	DelNeighs []Neigh
	DelFDB    []FDB
	DelAddrs  []Addr
	DelLinks  []string

	AddLinks   []Link // create (and bring up)
	SetLinks   []Link // change MTU, MAC or state of an existing device
	AddAddrs   []Addr
	SetSysctls []Sysctl
	AddFDB     []FDB   // append
	SetNeighs  []Neigh // create or replace
	SetRoutes  []Route // create or replace
}

// Empty reports whether p changes nothing.
func (p Plan) Empty() bool {
	return len(p.DelRoutes)+len(p.DelNeighs)+len(p.DelFDB)+len(p.DelAddrs)+len(p.DelLinks)+
		len(p.AddLinks)+len(p.SetLinks)+len(p.AddAddrs)+len(p.SetSysctls)+
		len(p.AddFDB)+len(p.SetNeighs)+len(p.SetRoutes) == 0
}

// Summary counts the changes, for logs.
func (p Plan) Summary() string {
	return fmt.Sprintf("links +%d ~%d -%d, addrs +%d -%d, routes +%d -%d, neighs +%d -%d, fdb +%d -%d, sysctls %d",
		len(p.AddLinks), len(p.SetLinks), len(p.DelLinks), len(p.AddAddrs), len(p.DelAddrs),
		len(p.SetRoutes), len(p.DelRoutes), len(p.SetNeighs), len(p.DelNeighs),
		len(p.AddFDB), len(p.DelFDB), len(p.SetSysctls))
}
