package nftables

import (
	"maps"
	"net/netip"

	"sigs.k8s.io/knftables"

	"rudder/proxy/model"
)

// hairpinRefs counts, per endpoint address, the service ports using it;
// the hairpin set holds the addresses with a count above zero.
type hairpinRefs map[netip.Addr]int

func hairpinElement(a netip.Addr) *knftables.Element {
	return &knftables.Element{Set: setHairpin, Key: []string{a.String(), a.String()}}
}

// addAll counts every port's addresses and adds them to the set (full sync).
func (r hairpinRefs) addAll(tx *knftables.Transaction, written map[model.ServicePortName]*portObjects) {
	for _, objs := range written {
		for _, a := range objs.hairpin {
			r[a]++
		}
	}
	for a := range r {
		tx.Add(hairpinElement(a))
	}
}

// update moves the counts from prev to next, adding and deleting set
// elements whose count leaves or reaches zero; it returns the new counts.
func (r hairpinRefs) update(tx *knftables.Transaction, prev, next []*portObjects) hairpinRefs {
	out := maps.Clone(r)
	if out == nil {
		out = hairpinRefs{}
	}
	for _, objs := range prev {
		for _, a := range objs.hairpin {
			out[a]--
		}
	}
	for _, objs := range next {
		for _, a := range objs.hairpin {
			out[a]++
		}
	}
	for a, n := range out {
		switch {
		case n <= 0 && r[a] > 0:
			tx.Delete(hairpinElement(a))
			delete(out, a)
		case n > 0 && r[a] == 0:
			tx.Add(hairpinElement(a))
		case n <= 0:
			delete(out, a)
		}
	}
	return out
}
