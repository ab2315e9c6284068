package netstate

import (
	"fmt"
	"net"
)

// MAC is an Ethernet address as a comparable value; the zero MAC means "unset".
type MAC [6]byte

// ParseMAC parses the colon form aa:bb:cc:dd:ee:ff.
func ParseMAC(s string) (MAC, error) {
	hw, err := net.ParseMAC(s)
	if err != nil {
		return MAC{}, fmt.Errorf("parse MAC %q: %w", s, err)
	}
	if len(hw) != 6 {
		return MAC{}, fmt.Errorf("parse MAC %q: not a 48-bit Ethernet address", s)
	}
	return MAC(hw), nil
}

// MACFrom converts a net.HardwareAddr; anything but 6 bytes gives the zero MAC.
func MACFrom(hw net.HardwareAddr) MAC {
	if len(hw) != 6 {
		return MAC{}
	}
	return MAC(hw)
}

// IsZero reports whether m is unset.
func (m MAC) IsZero() bool { return m == MAC{} }

// HardwareAddr returns m as a net.HardwareAddr.
func (m MAC) HardwareAddr() net.HardwareAddr { return net.HardwareAddr(m[:]) }

func (m MAC) String() string { return m.HardwareAddr().String() }
