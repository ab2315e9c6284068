package iptables

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strings"
)

// inventory reads what a full sync or a cleanup needs from the kernel:
// every chain of the nat and filter tables, and the rules of their
// builtin chains (user chains come back empty).
//
// iptables-nft-save must translate every rule back and takes ~6 s at
// 10,000 services, so in nft mode the chain names come from `nft list
// chains ip` and the builtin chains from `iptables-nft -S <chain>`; when
// nft is not installed, or in legacy mode (whose save is cheap), the
// full save is used.
func (b *Backend) inventory(ctx context.Context, m Mode) (*Dump, error) {
	if m == ModeNFT {
		d, err := b.nftInventory(ctx)
		if err == nil {
			return d, nil
		}
		b.log.Debug("nft inventory failed, using iptables-nft-save", "err", err)
	}
	return b.save(ctx, m, tableNAT, tableFilter)
}

func (b *Backend) nftInventory(ctx context.Context) (*Dump, error) {
	out, err := b.ex.Run(ctx, nil, "nft", "list", "chains", "ip")
	if err != nil {
		return nil, fmt.Errorf("list chains: %w", err)
	}
	d := parseNFTChains(out)
	for _, table := range tableOrder {
		t := d.Tables[table]
		if t == nil {
			continue
		}
		for _, chain := range builtinChains[table] {
			if _, ok := t.Chains[chain]; !ok {
				continue
			}
			rules, err := b.ex.Run(ctx, nil, "iptables-nft", "-w", "-t", table, "-S", chain)
			if err != nil {
				return nil, fmt.Errorf("list %s %s: %w", table, chain, err)
			}
			t.Chains[chain] = parseListed(chain, rules)
		}
	}
	return d, nil
}

// parseNFTChains reads `nft list chains ip`: "table ip nat {" and
// "chain NAME {" lines.
func parseNFTChains(out []byte) *Dump {
	d := NewDump()
	var cur *TableDump
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 3 && f[0] == "table" && f[1] == "ip":
			cur = &TableDump{Chains: map[string][]string{}}
			d.Tables[f[2]] = cur
		case len(f) >= 2 && f[0] == "chain" && cur != nil:
			cur.Chains[f[1]] = nil
		}
	}
	return d
}

// parseListed reads `iptables -S CHAIN`: the "-A CHAIN " rules.
func parseListed(chain string, out []byte) []string {
	var rules []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if r, ok := strings.CutPrefix(sc.Text(), "-A "+chain+" "); ok {
			rules = append(rules, r)
		}
	}
	return rules
}
