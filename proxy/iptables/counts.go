package iptables

// RuleCounts tells how many service chains and rules the last successful
// Sync left installed (the proxier exports them as rudder_proxy_rules).
func (b *Backend) RuleCounts() map[string]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.last == nil {
		return map[string]int{}
	}
	counts := map[string]int{}
	for _, pr := range b.last.ports {
		counts["chains"] += len(pr.chains)
		for _, c := range pr.chains {
			counts["nat_rules"] += len(c.Rules)
		}
	}
	for table, chains := range b.last.shared {
		counts["chains"] += len(chains)
		for _, c := range chains {
			counts[table+"_rules"] += len(c.Rules)
		}
	}
	return counts
}
