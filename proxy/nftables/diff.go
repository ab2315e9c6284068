package nftables

import (
	"strings"
	"time"

	"sigs.k8s.io/knftables"
)

// writeDiff moves one service port from prev to next (either may be nil).
// Order matters inside the transaction: references are removed (stale
// elements deleted, old chains flushed) before the chains and sets they
// pointed to are deleted.
func writeDiff(tx *knftables.Transaction, prev, next *portObjects) {
	if prev == nil {
		prev = &portObjects{}
	}
	if next == nil {
		next = &portObjects{}
	}
	nextElems := map[element]bool{}
	for _, e := range next.elements {
		nextElems[e] = true
	}
	prevElems := map[element]bool{}
	for _, e := range prev.elements {
		prevElems[e] = true
		if !nextElems[e] {
			tx.Delete(e.object())
		}
	}
	for _, c := range prev.chains {
		tx.Flush(&knftables.Chain{Name: c.name})
	}
	deleteChangedSets(tx, prev, next)
	addSets(tx, next)
	addChains(tx, next)
	addRules(tx, next)
	for _, e := range next.elements {
		if !prevElems[e] {
			tx.Add(e.object())
		}
	}
	deleteStale(tx, prev, next)
}

// deleteStale deletes prev's chains and sets that next does not have.
func deleteStale(tx *knftables.Transaction, prev, next *portObjects) {
	keep := map[string]bool{}
	for _, c := range next.chains {
		keep[c.name] = true
	}
	for _, s := range next.sets {
		keep[s.name] = true
	}
	for _, c := range prev.chains {
		if !keep[c.name] {
			tx.Delete(&knftables.Chain{Name: c.name})
		}
	}
	for _, s := range prev.sets {
		if !keep[s.name] {
			tx.Delete(&knftables.Set{Name: s.name})
		}
	}
}

// deleteChangedSets deletes the affinity sets whose timeout changes (a set
// cannot be re-added with other properties); their users were flushed.
func deleteChangedSets(tx *knftables.Transaction, prev, next *portObjects) {
	timeouts := map[string]time.Duration{}
	for _, s := range next.sets {
		timeouts[s.name] = s.timeout
	}
	for _, s := range prev.sets {
		if t, ok := timeouts[s.name]; ok && t != s.timeout {
			tx.Delete(&knftables.Set{Name: s.name})
		}
	}
}

func addSets(tx *knftables.Transaction, objs *portObjects) {
	for _, s := range objs.sets {
		timeout := s.timeout
		tx.Add(&knftables.Set{
			Name:    s.name,
			Type:    "ipv4_addr",
			Flags:   []knftables.SetFlag{knftables.DynamicFlag, knftables.TimeoutFlag},
			Timeout: &timeout,
		})
	}
}

func addChains(tx *knftables.Transaction, objs *portObjects) {
	for _, c := range objs.chains {
		tx.Add(&knftables.Chain{Name: c.name})
	}
}

func addRules(tx *knftables.Transaction, objs *portObjects) {
	for _, c := range objs.chains {
		for _, r := range c.rules {
			tx.Add(&knftables.Rule{Chain: c.name, Rule: r})
		}
	}
}

// object is the knftables element for e.
func (e element) object() *knftables.Element {
	el := &knftables.Element{Key: strings.Split(e.key, " . ")}
	if e.value == "" {
		el.Set = e.container
	} else {
		el.Map = e.container
		el.Value = []string{e.value}
	}
	return el
}
