package endpointslice

import (
	"maps"
	"sort"

	corev1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ManagedBy is the value of the endpointslice.kubernetes.io/managed-by label on
// the slices this controller owns.
const ManagedBy = "endpointslice-controller.rudder.io"

// plan is what a sync writes: new slices to create (no name yet), existing
// slices to update (with their name and resourceVersion) and slices to delete.
type plan struct {
	create []*discovery.EndpointSlice
	update []*discovery.EndpointSlice
	delete []*discovery.EndpointSlice
}

func (p *plan) empty() bool { return len(p.create)+len(p.update)+len(p.delete) == 0 }

// sliceLabels are the labels a managed slice carries: the service's own labels
// plus the service-name, managed-by and (for headless services) headless labels.
func sliceLabels(svc *corev1.Service) map[string]string {
	l := make(map[string]string, len(svc.Labels)+3)
	for k, v := range svc.Labels {
		if k == discovery.LabelServiceName || k == discovery.LabelManagedBy || k == corev1.IsHeadlessService {
			continue
		}
		l[k] = v
	}
	l[discovery.LabelServiceName] = svc.Name
	l[discovery.LabelManagedBy] = ManagedBy
	if svc.Spec.ClusterIP == corev1.ClusterIPNone {
		l[corev1.IsHeadlessService] = ""
	}
	return l
}

func ownerRef(svc *corev1.Service) metav1.OwnerReference {
	t := true
	return metav1.OwnerReference{
		APIVersion: "v1", Kind: "Service", Name: svc.Name, UID: svc.UID,
		Controller: &t, BlockOwnerDeletion: &t,
	}
}

// ownedBy reports whether the slice's controller reference is the service.
func ownedBy(s *discovery.EndpointSlice, svc *corev1.Service) bool {
	ref := metav1.GetControllerOfNoCopy(s)
	return ref != nil && ref.Kind == "Service" && ref.UID == svc.UID
}

// newSlice returns an unnamed slice for the service with the given ports.
func newSlice(svc *corev1.Service, ports []discovery.EndpointPort) *discovery.EndpointSlice {
	return &discovery.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName:    svc.Name + "-",
			Namespace:       svc.Namespace,
			Labels:          sliceLabels(svc),
			OwnerReferences: []metav1.OwnerReference{ownerRef(svc)},
		},
		AddressType: discovery.AddressTypeIPv4,
		Ports:       clonePorts(ports),
	}
}

func clonePorts(ports []discovery.EndpointPort) []discovery.EndpointPort {
	out := make([]discovery.EndpointPort, len(ports))
	for i := range ports {
		ports[i].DeepCopyInto(&out[i])
	}
	return out
}

// metaCurrent reports whether an existing slice's labels and owner reference
// are what they should be.
func metaCurrent(s *discovery.EndpointSlice, svc *corev1.Service) bool {
	if !maps.Equal(s.Labels, sliceLabels(svc)) {
		return false
	}
	return len(s.OwnerReferences) == 1 && apiequality.Semantic.DeepEqual(s.OwnerReferences[0], ownerRef(svc))
}

// reconcile plans the writes that take the service's existing managed slices
// to the desired endpoint groups with at most max endpoints per slice. It keeps
// endpoints in the slices that hold them, rewrites only slices whose content
// changes, fills slices that are written anyway before creating new ones,
// reuses slices that would be deleted instead of creating new ones, and keeps
// one empty placeholder slice when there are no endpoints at all.
func reconcile(svc *corev1.Service, existing []*discovery.EndpointSlice, groups map[string]*endpointGroup, max int) plan {
	var p plan
	// Existing slices by port set; slices of another address type, or not
	// owned by this service, are deleted.
	byPorts := map[string][]*discovery.EndpointSlice{}
	var spare []*discovery.EndpointSlice // slices to delete unless reused
	sorted := append([]*discovery.EndpointSlice(nil), existing...)
	// Fuller slices first: they keep their endpoints, so duplicates are
	// dropped from the smaller ones, which then tend to empty out.
	sort.Slice(sorted, func(i, j int) bool {
		if a, b := len(sorted[i].Endpoints), len(sorted[j].Endpoints); a != b {
			return a > b
		}
		return sorted[i].Name < sorted[j].Name
	})
	for _, s := range sorted {
		if s.AddressType != discovery.AddressTypeIPv4 || !ownedBy(s, svc) {
			p.delete = append(p.delete, s)
			continue
		}
		k := portsKey(s.Ports)
		if groups[k] == nil {
			spare = append(spare, s)
			continue
		}
		byPorts[k] = append(byPorts[k], s)
	}

	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var creates []*discovery.EndpointSlice // new slices, reusing spares later
	for _, k := range keys {
		g := groups[k]
		remaining := maps.Clone(g.endpoints)
		type slot struct {
			orig  *discovery.EndpointSlice
			eps   []discovery.Endpoint
			dirty bool
		}
		var slots []*slot
		for _, s := range byPorts[k] {
			sl := &slot{orig: s, dirty: !metaCurrent(s, svc)}
			for i := range s.Endpoints {
				ep := &s.Endpoints[i]
				want, ok := remaining[endpointKey(ep)]
				if !ok || len(sl.eps) >= max {
					sl.dirty = true // gone, duplicated, or over capacity
					continue
				}
				delete(remaining, endpointKey(ep))
				if !apiequality.Semantic.DeepEqual(*ep, want) {
					sl.dirty = true
				}
				sl.eps = append(sl.eps, want)
			}
			if len(sl.eps) == 0 {
				spare = append(spare, s)
				continue
			}
			slots = append(slots, sl)
		}
		// New endpoints in a stable order.
		newKeys := make([]string, 0, len(remaining))
		for key := range remaining {
			newKeys = append(newKeys, key)
		}
		sort.Strings(newKeys)
		take := func(n int) []discovery.Endpoint {
			n = min(n, len(newKeys))
			out := make([]discovery.Endpoint, 0, n)
			for _, key := range newKeys[:n] {
				out = append(out, remaining[key])
			}
			newKeys = newKeys[n:]
			return out
		}
		// 1. Fill slices that are written anyway.
		for _, sl := range slots {
			if sl.dirty && len(sl.eps) < max {
				sl.eps = append(sl.eps, take(max-len(sl.eps))...)
			}
		}
		// 2. Full new slices.
		var fresh [][]discovery.Endpoint
		for len(newKeys) >= max {
			fresh = append(fresh, take(max))
		}
		// 3. The rest goes into the fullest unchanged slice with room, else
		//    into a new slice.
		if len(newKeys) > 0 {
			var best *slot
			for _, sl := range slots {
				if !sl.dirty && len(sl.eps)+len(newKeys) <= max && (best == nil || len(sl.eps) > len(best.eps)) {
					best = sl
				}
			}
			if best != nil {
				best.dirty = true
				best.eps = append(best.eps, take(len(newKeys))...)
			} else {
				fresh = append(fresh, take(len(newKeys)))
			}
		}
		for _, sl := range slots {
			if !sl.dirty {
				continue
			}
			u := sl.orig.DeepCopy()
			u.Labels = sliceLabels(svc)
			u.OwnerReferences = []metav1.OwnerReference{ownerRef(svc)}
			u.Endpoints = sl.eps
			p.update = append(p.update, u)
		}
		for _, eps := range fresh {
			s := newSlice(svc, g.ports)
			s.Endpoints = eps
			creates = append(creates, s)
		}
	}

	if len(groups) == 0 {
		// Keep one placeholder: an existing empty one if current, else a
		// reused or new one.
		for i, s := range spare {
			if len(s.Endpoints) == 0 && len(s.Ports) == 0 && metaCurrent(s, svc) {
				spare = append(spare[:i:i], spare[i+1:]...)
				return finish(p, creates, spare)
			}
		}
		creates = append(creates, newSlice(svc, nil))
	}
	return finish(p, creates, spare)
}

// finish turns new slices into updates of spare slices where it can, and
// deletes the spares left over.
func finish(p plan, creates, spare []*discovery.EndpointSlice) plan {
	for _, c := range creates {
		if len(spare) == 0 {
			p.create = append(p.create, c)
			continue
		}
		s := spare[0].DeepCopy()
		spare = spare[1:]
		s.Labels = c.Labels
		s.OwnerReferences = c.OwnerReferences
		s.AddressType = c.AddressType
		s.Ports = c.Ports
		s.Endpoints = c.Endpoints
		p.update = append(p.update, s)
	}
	p.delete = append(p.delete, spare...)
	return p
}
