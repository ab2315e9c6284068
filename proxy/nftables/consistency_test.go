package nftables

import (
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/knftables"
)

var (
	chainRef = regexp.MustCompile(`\b(?:jump|goto) ([a-z0-9-]+)`)
	setRef   = regexp.MustCompile(`@([a-z0-9-]+)`)
)

// checkConsistent fails when a rule or map element refers to a chain or
// set that does not exist, or a per-service chain or set is not
// referred to by anything (an orphan).
func checkConsistent(t *testing.T, fake *knftables.Fake) {
	t.Helper()
	fake.RLock()
	defer fake.RUnlock()
	table := fake.Table
	usedChains, usedSets := map[string]bool{}, map[string]bool{}
	refer := func(where, text string) {
		for _, m := range chainRef.FindAllStringSubmatch(text, -1) {
			usedChains[m[1]] = true
			if table.Chains[m[1]] == nil {
				t.Errorf("%s: jump/goto to missing chain %s", where, m[1])
			}
		}
		for _, m := range setRef.FindAllStringSubmatch(text, -1) {
			usedSets[m[1]] = true
			if table.Sets[m[1]] == nil && table.Maps[m[1]] == nil {
				t.Errorf("%s: reference to missing set or map %s", where, m[1])
			}
		}
	}
	for name, c := range table.Chains {
		for _, r := range c.Rules {
			refer("chain "+name, r.Rule)
		}
	}
	for name, m := range table.Maps {
		for _, e := range m.Elements {
			refer("map "+name, strings.Join(e.Value, " "))
		}
	}
	fixed := map[string]bool{}
	for _, c := range regularChains() {
		fixed[c.name] = true
	}
	for name, c := range table.Chains {
		if c.Hook == nil && !fixed[name] && !usedChains[name] {
			t.Errorf("orphan chain %s", name)
		}
	}
	for name := range table.Sets {
		if strings.HasPrefix(name, prefixAffinity) && !usedSets[name] {
			t.Errorf("orphan set %s", name)
		}
	}
}
