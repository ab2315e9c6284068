package apiserver

import (
	"context"
	"fmt"
	"net"
	"reflect"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"

	"rudder/controlplane/catalog"
)

// SystemNamespaces exist on every cluster.
var SystemNamespaces = []string{"default", "kube-system", "kube-public", "kube-node-lease"}

// Bootstrap creates what every cluster has: the system namespaces and the
// kubernetes Service with Endpoints and EndpointSlice pointing here. It is
// idempotent and repairs drift (a changed advertise address).
func (s *Server) Bootstrap(ctx context.Context) error {
	s.ctx = ctx
	for _, ns := range SystemNamespaces {
		obj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
		if err := s.ensure(ctx, corev1.SchemeGroupVersion.WithResource("namespaces"), obj, false); err != nil {
			return fmt.Errorf("bootstrap namespace %s: %w", ns, err)
		}
	}
	if err := s.ensureDefaultServiceAccounts(ctx); err != nil {
		return err
	}
	if s.cfg.ServiceCIDR == nil || s.cfg.AdvertiseAddress == nil {
		return nil
	}
	if err := s.repairServiceAllocations(ctx); err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	if err := s.ensure(ctx, corev1.SchemeGroupVersion.WithResource("services"), s.kubernetesService(), false); err != nil {
		return fmt.Errorf("bootstrap kubernetes service: %w", err)
	}
	if err := s.ensure(ctx, corev1.SchemeGroupVersion.WithResource("endpoints"), s.kubernetesEndpoints(), true); err != nil {
		return fmt.Errorf("bootstrap kubernetes endpoints: %w", err)
	}
	if err := s.ensure(ctx, discoveryv1.SchemeGroupVersion.WithResource("endpointslices"), s.kubernetesSlice(), true); err != nil {
		return fmt.Errorf("bootstrap kubernetes endpointslice: %w", err)
	}
	go s.expireEvents(ctx, EventTTL, 5*time.Minute)
	return s.resumeNamespaceDeletions(ctx)
}

// FirstServiceIP is the kubernetes Service's address: the first usable IP
// of the service CIDR.
func FirstServiceIP(cidr *net.IPNet) net.IP {
	ip := make(net.IP, len(cidr.IP.To16()))
	copy(ip, cidr.IP.To16())
	ip[len(ip)-1]++
	if v4 := ip.To4(); v4 != nil {
		return v4
	}
	return ip
}

func (s *Server) kubernetesService() *corev1.Service {
	ip := FirstServiceIP(s.cfg.ServiceCIDR).String()
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: "default",
			Labels: map[string]string{"component": "apiserver", "provider": "kubernetes"}},
		Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, ClusterIP: ip, ClusterIPs: []string{ip},
			Ports:           []corev1.ServicePort{{Name: "https", Protocol: corev1.ProtocolTCP, Port: 443, TargetPort: intstr.FromInt32(int32(s.cfg.Port))}},
			SessionAffinity: corev1.ServiceAffinityNone,
		},
	}
}

func (s *Server) kubernetesEndpoints() *corev1.Endpoints {
	return &corev1.Endpoints{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: "default",
			Labels: map[string]string{"endpointslice.kubernetes.io/skip-mirror": "true"}},
		Subsets: []corev1.EndpointSubset{{
			Addresses: []corev1.EndpointAddress{{IP: s.cfg.AdvertiseAddress.String()}},
			Ports:     []corev1.EndpointPort{{Name: "https", Port: int32(s.cfg.Port), Protocol: corev1.ProtocolTCP}},
		}},
	}
}

func (s *Server) kubernetesSlice() *discoveryv1.EndpointSlice {
	ready := true
	name, proto, port := "https", corev1.ProtocolTCP, int32(s.cfg.Port)
	family := discoveryv1.AddressTypeIPv4
	if s.cfg.AdvertiseAddress.To4() == nil {
		family = discoveryv1.AddressTypeIPv6
	}
	return &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: "default",
			Labels: map[string]string{discoveryv1.LabelServiceName: "kubernetes"}},
		AddressType: family,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{s.cfg.AdvertiseAddress.String()}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}},
		Ports:       []discoveryv1.EndpointPort{{Name: &name, Protocol: &proto, Port: &port}},
	}
}

// systemRequest builds the request context the server uses for its own
// writes.
func (s *Server) systemRequest(gvr schema.GroupVersionResource, namespace, name string) (*request, error) {
	res, ok := catalog.Lookup(gvr)
	if !ok {
		return nil, fmt.Errorf("unknown resource %s", gvr)
	}
	return &request{res: res, namespace: namespace, name: name, strategy: s.strategy(res)}, nil
}

// ensure creates obj if missing; with repair it also rewrites the object
// when its contents drifted.
func (s *Server) ensure(ctx context.Context, gvr schema.GroupVersionResource, obj runtime.Object, repair bool) error {
	acc, _ := meta.Accessor(obj)
	q, err := s.systemRequest(gvr, acc.GetNamespace(), acc.GetName())
	if err != nil {
		return err
	}
	opts := writeOptions{fieldManager: "rudder-apiserver"}
	cur, err := s.objects.Get(ctx, q.res, q.namespace, q.name)
	if err == nil {
		if !repair || sameContent(cur, obj) {
			return nil
		}
		next := obj.DeepCopyObject()
		_, err = s.updateFrom(ctx, q, cur, next, opts, "update")
		return err
	}
	_, err = s.createObject(ctx, q, obj, opts)
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// sameContent compares two objects ignoring server-owned metadata.
func sameContent(a, b runtime.Object) bool {
	ac, bc := a.DeepCopyObject(), b.DeepCopyObject()
	for _, o := range []runtime.Object{ac, bc} {
		acc, _ := meta.Accessor(o)
		acc.SetResourceVersion("")
		acc.SetUID("")
		acc.SetCreationTimestamp(metav1.Time{})
		acc.SetManagedFields(nil)
		acc.SetGeneration(0)
		o.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{})
	}
	return reflect.DeepEqual(ac, bc)
}
