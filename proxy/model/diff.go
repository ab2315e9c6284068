package model

import (
	"reflect"
	"slices"
)

// Diff is the names of the service ports that differ between old and new:
// added, removed or changed in any field, sorted. A nil old (the first
// sync) counts every service port of new as added. When the node facts
// differ, every service port of both states is returned, since any rule
// may depend on them.
func Diff(old, new *State) []ServicePortName {
	if old == nil {
		old = &State{}
	}
	if new == nil {
		new = &State{}
	}
	all := !reflect.DeepEqual(old.Node, new.Node)
	before := make(map[ServicePortName]*ServicePort, len(old.Services))
	for i := range old.Services {
		before[old.Services[i].Name] = &old.Services[i]
	}
	var out []ServicePortName
	for i := range new.Services {
		sp := &new.Services[i]
		prev, ok := before[sp.Name]
		delete(before, sp.Name)
		if all || !ok || !reflect.DeepEqual(prev, sp) {
			out = append(out, sp.Name)
		}
	}
	for name := range before {
		out = append(out, name)
	}
	slices.SortFunc(out, ComparePortNames)
	return out
}

// Lookup is the service port called name, or nil.
func (s *State) Lookup(name ServicePortName) *ServicePort {
	i, ok := slices.BinarySearchFunc(s.Services, name, func(sp ServicePort, n ServicePortName) int {
		return ComparePortNames(sp.Name, n)
	})
	if !ok {
		return nil
	}
	return &s.Services[i]
}
