package iptables

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Cleanup removes the jumps to RUDDER- chains and every RUDDER- chain in
// the nat and filter tables. In auto mode both flavours are cleaned.
func (b *Backend) Cleanup(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.last = nil
	modes := []Mode{b.mode}
	if b.mode == "" {
		modes = []Mode{ModeLegacy, ModeNFT}
	}
	var errs []error
	for _, m := range modes {
		if err := b.cleanup(ctx, m); err != nil {
			errs = append(errs, fmt.Errorf("cleanup iptables-%s: %w", m, err))
		}
	}
	if b.mode == "" && len(errs) < len(modes) {
		return nil // one flavour missing on the system is not an error
	}
	return errors.Join(errs...)
}

func (b *Backend) cleanup(ctx context.Context, m Mode) error {
	cur, err := b.inventory(ctx, m)
	if err != nil {
		return err
	}
	tables := newTables()
	for _, table := range tableOrder {
		t := cur.Tables[table]
		if t == nil {
			continue
		}
		for _, chain := range builtinChains[table] {
			for _, r := range t.Chains[chain] {
				if strings.HasPrefix(target(r), chainPrefix) {
					tables[table].rules.WriteString("-D " + chain + " " + r + "\n")
				}
			}
		}
		for _, c := range cur.UserChains(table, chainPrefix) {
			tables[table].deleteChain(c)
		}
	}
	return b.restore(ctx, m, restoreInput(tableOrder, tables))
}
