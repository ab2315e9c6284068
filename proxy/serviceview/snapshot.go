package serviceview

import (
	"cmp"
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Snapshot is the view's content at one moment, each list sorted by
// namespace and name. The lists are the caller's own; the objects are
// shared with the informer cache and must not be modified (DeepCopy one
// before changing it).
type Snapshot struct {
	Services       []*corev1.Service
	EndpointSlices []*discoveryv1.EndpointSlice
	Nodes          []*corev1.Node
}

// Snapshot reads the cache. It is cheap (no copies of objects) and safe
// to call from any goroutine.
func (v *View) Snapshot() Snapshot {
	var s Snapshot
	s.Services, _ = v.services.List(labels.Everything())
	s.EndpointSlices, _ = v.slices.List(labels.Everything())
	if v.nodes != nil {
		s.Nodes, _ = v.nodes.List(labels.Everything())
	}
	sortByName(s.Services, func(o *corev1.Service) (string, string) { return o.Namespace, o.Name })
	sortByName(s.EndpointSlices, func(o *discoveryv1.EndpointSlice) (string, string) { return o.Namespace, o.Name })
	sortByName(s.Nodes, func(o *corev1.Node) (string, string) { return o.Namespace, o.Name })
	return s
}

func sortByName[T any](s []T, key func(T) (string, string)) {
	slices.SortFunc(s, func(a, b T) int {
		an, aa := key(a)
		bn, bb := key(b)
		return cmp.Or(cmp.Compare(an, bn), cmp.Compare(aa, bb))
	})
}

// Node is the named Node from the cache, or nil (also with NoNodes).
func (v *View) Node(name string) *corev1.Node {
	if v.nodes == nil {
		return nil
	}
	n, err := v.nodes.Get(name)
	if err != nil {
		return nil
	}
	return n
}
