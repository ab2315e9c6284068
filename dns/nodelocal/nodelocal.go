// Package nodelocal prepares a node for a node-local DNS cache (the
// NodeLocal DNSCache idea): a dummy interface holding a link-local address
// that the kubelet's resolv.conf names, and an nftables table exempting DNS
// to and from that address from connection tracking. Without conntrack,
// pods' UDP queries no longer race on conntrack entries (the cause of the
// well-known 5 s lookup timeouts), and the cache talks TCP to the cluster
// DNS.
package nodelocal

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
	"sigs.k8s.io/knftables"
)

// Defaults, as NodeLocal DNSCache's.
const (
	DefaultInterface = "nodelocaldns"
	DefaultTable     = "rudder-nodelocaldns"
)

// DefaultIP is the link-local address the cache listens on.
var DefaultIP = netip.MustParseAddr("169.254.20.10")

// Config says what to set up.
type Config struct {
	// Interface is the dummy link's name (default nodelocaldns).
	Interface string
	// IP is the cache's address (default 169.254.20.10).
	IP netip.Addr
	// Table is the nftables table (family ip; default rudder-nodelocaldns).
	Table string
	// NFT talks to nftables; nil uses the nft tool.
	NFT knftables.Interface
}

func (c Config) withDefaults() (Config, error) {
	if c.Interface == "" {
		c.Interface = DefaultInterface
	}
	if !c.IP.IsValid() {
		c.IP = DefaultIP
	}
	if !c.IP.Is4() {
		return c, fmt.Errorf("node-local DNS address %s: only IPv4 is supported", c.IP)
	}
	if c.Table == "" {
		c.Table = DefaultTable
	}
	if c.NFT == nil {
		nft, err := knftables.New(knftables.IPv4Family, c.Table)
		if err != nil {
			return c, fmt.Errorf("nftables for node-local DNS: %w", err)
		}
		c.NFT = nft
	}
	return c, nil
}

// Setup creates the interface, its address and the notrack rules; it is
// idempotent, so an agent restart finds them in place.
func Setup(ctx context.Context, cfg Config) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	if err := ensureLink(cfg.Interface, cfg.IP); err != nil {
		return err
	}
	tx := cfg.NFT.NewTransaction()
	Rules(tx, cfg.IP)
	if err := cfg.NFT.Run(ctx, tx); err != nil {
		return fmt.Errorf("node-local DNS notrack rules: %w", err)
	}
	return nil
}

// Teardown removes the table and the interface; missing ones are fine.
func Teardown(ctx context.Context, cfg Config) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	var errs []error
	tx := cfg.NFT.NewTransaction()
	tx.Add(&knftables.Table{})
	tx.Delete(&knftables.Table{})
	if err := cfg.NFT.Run(ctx, tx); err != nil {
		errs = append(errs, fmt.Errorf("delete table %s: %w", cfg.Table, err))
	}
	if l, err := netlink.LinkByName(cfg.Interface); err == nil {
		if err := netlink.LinkDel(l); err != nil {
			errs = append(errs, fmt.Errorf("delete link %s: %w", cfg.Interface, err))
		}
	}
	return errors.Join(errs...)
}

// Rules fills tx with the whole table, replacing what was there: DNS to
// and from ip skips connection tracking in both directions.
func Rules(tx *knftables.Transaction, ip netip.Addr) {
	tx.Add(&knftables.Table{Comment: knftables.PtrTo("rudder: node-local DNS cache, no conntrack")})
	tx.Flush(&knftables.Table{})
	for _, c := range []struct{ name, hook string }{{"prerouting", "prerouting"}, {"output", "output"}} {
		tx.Add(&knftables.Chain{Name: c.name, Type: knftables.PtrTo(knftables.FilterType),
			Hook: knftables.PtrTo(knftables.BaseChainHook(c.hook)), Priority: knftables.PtrTo(knftables.RawPriority)})
	}
	for _, proto := range []string{"udp", "tcp"} {
		tx.Add(&knftables.Rule{Chain: "prerouting", Rule: knftables.Concat("ip daddr", ip.String(), proto, "dport 53 notrack")})
		tx.Add(&knftables.Rule{Chain: "output", Rule: knftables.Concat("ip daddr", ip.String(), proto, "dport 53 notrack")})
		tx.Add(&knftables.Rule{Chain: "output", Rule: knftables.Concat("ip saddr", ip.String(), proto, "sport 53 notrack")})
	}
}

// addLink creates a dummy link, or, on kernels built without dummy
// devices (like this project's CI machine), a bridge without ports: both
// only hold an address for local delivery.
func addLink(name string) error {
	attrs := netlink.LinkAttrs{Name: name}
	err := netlink.LinkAdd(&netlink.Dummy{LinkAttrs: attrs})
	if errors.Is(err, unix.EOPNOTSUPP) {
		err = netlink.LinkAdd(&netlink.Bridge{LinkAttrs: attrs})
	}
	if err != nil {
		return fmt.Errorf("create link %s: %w", name, err)
	}
	return nil
}

// ensureLink creates the dummy link with ip/32 and brings it up.
func ensureLink(name string, ip netip.Addr) error {
	l, err := netlink.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if !errors.As(err, &nf) {
			return fmt.Errorf("look up link %s: %w", name, err)
		}
		if err := addLink(name); err != nil {
			return err
		}
		if l, err = netlink.LinkByName(name); err != nil {
			return fmt.Errorf("look up link %s: %w", name, err)
		}
	}
	addr := &netlink.Addr{IPNet: &net.IPNet{IP: ip.AsSlice(), Mask: net.CIDRMask(32, 32)}}
	if err := netlink.AddrReplace(l, addr); err != nil {
		return fmt.Errorf("add %s to %s: %w", ip, name, err)
	}
	if err := netlink.LinkSetUp(l); err != nil {
		return fmt.Errorf("set %s up: %w", name, err)
	}
	return nil
}
