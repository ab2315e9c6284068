package kernel

import (
	"fmt"
	"net"

	"github.com/vishvananda/netlink"

	"rudder/cni/netd/netstate"
)

func (k *Netlink) addLink(l netstate.Link) error {
	if l.Kind != "vxlan" {
		return fmt.Errorf("kind %q: only vxlan devices are managed", l.Kind)
	}
	parent, err := k.index(l.Parent)
	if err != nil {
		return err
	}
	vx := &netlink.Vxlan{
		LinkAttrs: netlink.LinkAttrs{Name: l.Name, MTU: l.MTU},
		VxlanId:   l.VNI, VtepDevIndex: parent, SrcAddr: l.Local.AsSlice(),
		Port: l.Port, Learning: l.Learning,
	}
	if !l.MAC.IsZero() {
		vx.HardwareAddr = l.MAC.HardwareAddr()
	}
	if err := k.h.LinkAdd(vx); err != nil {
		return err
	}
	if l.Up {
		return k.h.LinkSetUp(vx)
	}
	return nil
}

func (k *Netlink) setLink(l netstate.Link) error {
	cur, err := k.h.LinkByName(l.Name)
	if err != nil {
		return err
	}
	a := cur.Attrs()
	if a.MTU != l.MTU {
		if err := k.h.LinkSetMTU(cur, l.MTU); err != nil {
			return fmt.Errorf("mtu: %w", err)
		}
	}
	if !l.MAC.IsZero() && netstate.MACFrom(a.HardwareAddr) != l.MAC {
		if err := k.h.LinkSetHardwareAddr(cur, l.MAC.HardwareAddr()); err != nil {
			return fmt.Errorf("address: %w", err)
		}
	}
	switch up := a.Flags&net.FlagUp != 0; {
	case l.Up && !up:
		return k.h.LinkSetUp(cur)
	case !l.Up && up:
		return k.h.LinkSetDown(cur)
	}
	return nil
}

func (k *Netlink) delLink(name string) error {
	l, err := k.h.LinkByName(name)
	if err != nil {
		return err
	}
	return k.h.LinkDel(l)
}
