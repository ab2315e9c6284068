package nftables

// RuleCounts says how many objects of each kind the last successful sync
// left in the table (the proxier's rudder_proxy_rules{kind}).
func (b *Backend) RuleCounts() map[string]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.synced {
		return map[string]int{}
	}
	counts := map[string]int{
		"chains":   len(baseChains()) + len(regularChains()),
		"rules":    0,
		"elements": len(b.hairpin),
		"sets":     0,
	}
	for _, c := range baseChains() {
		counts["rules"] += len(c.rules)
	}
	for _, c := range regularChains() {
		counts["rules"] += len(c.rules)
	}
	for _, objs := range b.written {
		counts["chains"] += len(objs.chains)
		for _, c := range objs.chains {
			counts["rules"] += len(c.rules)
		}
		counts["elements"] += len(objs.elements)
		counts["sets"] += len(objs.sets)
	}
	return counts
}
