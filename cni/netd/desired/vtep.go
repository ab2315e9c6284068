package desired

import (
	"net/netip"

	"rudder/cni/netd/netstate"
)

// VTEPMAC derives this node's VXLAN MAC from its underlay address: a
// locally administered unicast address 0e:72:a.b.c.d. It is stable across
// restarts and device re-creation, so peers' neighbour and FDB entries stay
// valid, and unique as long as underlay addresses are.
func VTEPMAC(local netip.Addr) netstate.MAC {
	a := local.As4()
	return netstate.MAC{0x0e, 0x72, a[0], a[1], a[2], a[3]}
}
