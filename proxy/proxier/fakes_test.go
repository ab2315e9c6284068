package proxier

import (
	"context"
	"sync"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"rudder/proxy/model"
	"rudder/proxy/serviceview"
)

// fakeSource is a Source whose content tests set.
type fakeSource struct {
	mu      sync.Mutex
	synced  bool
	snap    serviceview.Snapshot
	changes chan struct{}
}

func newFakeSource() *fakeSource { return &fakeSource{changes: make(chan struct{}, 1)} }

func (f *fakeSource) HasSynced() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.synced
}

func (f *fakeSource) Changes() <-chan struct{} { return f.changes }

func (f *fakeSource) Snapshot() serviceview.Snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.snap
}

// set replaces the content, marks the source synced and signals.
func (f *fakeSource) set(svcs []*corev1.Service, slices ...*discoveryv1.EndpointSlice) {
	f.mu.Lock()
	f.synced = true
	f.snap = serviceview.Snapshot{Services: svcs, EndpointSlices: slices}
	f.mu.Unlock()
	select {
	case f.changes <- struct{}{}:
	default:
	}
}

// call is one recorded Backend.Sync.
type call struct {
	full         bool
	changed      []string
	servicePorts int
}

// fakeBackend records Sync calls and fails while err is set.
type fakeBackend struct {
	mu       sync.Mutex
	calls    []call
	err      error
	notify   chan struct{}
	cleanups int
}

func newFakeBackend() *fakeBackend { return &fakeBackend{notify: make(chan struct{}, 100)} }

func (b *fakeBackend) Name() string { return "fake" }

func (b *fakeBackend) Sync(_ context.Context, st *model.State, changed []model.ServicePortName, full bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := call{full: full, servicePorts: len(st.Services)}
	for _, n := range changed {
		c.changed = append(c.changed, n.String())
	}
	b.calls = append(b.calls, c)
	b.notify <- struct{}{}
	return b.err
}

func (b *fakeBackend) Cleanup(context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cleanups++
	return nil
}

func (b *fakeBackend) RuleCounts() map[string]int { return map[string]int{"nat": 7} }

func (b *fakeBackend) last() call {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls[len(b.calls)-1]
}

func (b *fakeBackend) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.calls)
}

func service(name, ip string, mods ...func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name},
		Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, ClusterIP: ip, ClusterIPs: []string{ip},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}},
		},
	}
	for _, m := range mods {
		m(s)
	}
	return s
}

func slice(svc, ip, node, trigger string) *discoveryv1.EndpointSlice {
	name, port, proto := "http", int32(8080), corev1.ProtocolTCP
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "ns", Name: svc + "-1",
			Labels: map[string]string{discoveryv1.LabelServiceName: svc},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{ip}, NodeName: &node}},
		Ports:       []discoveryv1.EndpointPort{{Name: &name, Port: &port, Protocol: &proto}},
	}
	if trigger != "" {
		s.Annotations = map[string]string{corev1.EndpointsLastChangeTriggerTime: trigger}
	}
	return s
}

func snapName(s *corev1.Service) types.NamespacedName {
	return types.NamespacedName{Namespace: s.Namespace, Name: s.Name}
}
