// Package netstate holds the plain values netd works with: the nodes it
// learns about, and the kernel objects of a node's overlay (VXLAN links,
// routes, neighbours, FDB entries, sysctls) as a State, plus the Plan that
// turns one State into another. No syscalls live here.
package netstate
