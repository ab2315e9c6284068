package conntrack

import (
	"errors"
	"fmt"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Netlink deletes entries from the kernel's conntrack table of the
// current network namespace.
type Netlink struct{}

// Delete deletes the flush's entries and returns how many went.
func (Netlink) Delete(f Flush) (int, error) {
	var filters []netlink.CustomConntrackFilter
	for _, ip := range f.Endpoints {
		flt := &netlink.ConntrackFilter{}
		if err := flt.AddProtocol(unix.IPPROTO_UDP); err != nil {
			return 0, err
		}
		if err := flt.AddIP(netlink.ConntrackReplySrcIP, ip.AsSlice()); err != nil {
			return 0, err
		}
		filters = append(filters, flt)
	}
	for _, ip := range f.ServiceIPs {
		flt := &netlink.ConntrackFilter{}
		if err := flt.AddProtocol(unix.IPPROTO_UDP); err != nil {
			return 0, err
		}
		if err := flt.AddIP(netlink.ConntrackOrigDstIP, ip.AsSlice()); err != nil {
			return 0, err
		}
		filters = append(filters, flt)
	}
	for _, ip := range f.TCPServiceIPs {
		// Original destination and reply source both the service
		// address: the entry was not DNAT'ed.
		flt := &netlink.ConntrackFilter{}
		if err := flt.AddProtocol(unix.IPPROTO_TCP); err != nil {
			return 0, err
		}
		if err := flt.AddIP(netlink.ConntrackOrigDstIP, ip.AsSlice()); err != nil {
			return 0, err
		}
		if err := flt.AddIP(netlink.ConntrackReplySrcIP, ip.AsSlice()); err != nil {
			return 0, err
		}
		filters = append(filters, flt)
	}
	if len(filters) == 0 {
		return 0, nil
	}
	n, err := netlink.ConntrackDeleteFilters(netlink.ConntrackTable, unix.AF_INET, filters...)
	if err != nil && !errors.Is(err, unix.ENOENT) {
		return int(n), fmt.Errorf("delete conntrack entries: %w", err)
	}
	return int(n), nil
}
