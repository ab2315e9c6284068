package forward

import (
	"fmt"

	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/coreos/go-iptables/iptables"
)

const table = "filter"

// IPTables keeps the forwarding rules in place in one network namespace.
// The iptables binary runs from a thread inside that namespace.
type IPTables struct {
	cfg Config
	ns  ns.NetNS
	ipt *iptables.IPTables
}

// NewIPTables returns the rule keeper for netNS, which stays owned by the caller.
func NewIPTables(netNS ns.NetNS, cfg Config) *IPTables {
	return &IPTables{cfg: cfg, ns: netNS}
}

// Ensure checks the chain and the jump (two `iptables -S` calls) and
// rebuilds what is missing or different.
func (f *IPTables) Ensure() error {
	return f.ns.Do(func(ns.NetNS) error {
		if f.ipt == nil {
			ipt, err := iptables.New()
			if err != nil {
				return fmt.Errorf("iptables: %w", err)
			}
			f.ipt = ipt
		}
		if err := f.ensureChain(); err != nil {
			return err
		}
		return f.ensureJump()
	})
}

func (f *IPTables) ensureChain() error {
	chain := f.cfg.chain()
	if listed, err := f.ipt.List(table, chain); err == nil && f.cfg.chainInPlace(listed) {
		return nil
	}
	if err := f.ipt.ClearChain(table, chain); err != nil { // creates it when missing
		return fmt.Errorf("iptables: reset chain %s: %w", chain, err)
	}
	for _, r := range f.cfg.Rules() {
		if err := f.ipt.Append(table, chain, r...); err != nil {
			return fmt.Errorf("iptables: append to %s: %w", chain, err)
		}
	}
	return nil
}

func (f *IPTables) ensureJump() error {
	listed, err := f.ipt.List(table, "FORWARD")
	if err != nil {
		return fmt.Errorf("iptables: list FORWARD: %w", err)
	}
	if f.cfg.jumpInPlace(listed) {
		return nil
	}
	if err := f.ipt.Insert(table, "FORWARD", 1, f.cfg.Jump()...); err != nil {
		return fmt.Errorf("iptables: jump from FORWARD to %s: %w", f.cfg.chain(), err)
	}
	return nil
}
