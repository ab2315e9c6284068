package registry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"

	"rudder/controlplane/registry/registrytest"
	"rudder/ipam"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
)

func newAllocator(t *testing.T, store *registrytest.Store, cidr string, ports PortRange) *ServiceAllocator {
	t.Helper()
	_, n, err := net.ParseCIDR(cidr)
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewServiceAllocator(ServiceAllocatorConfig{Store: store, ServiceCIDR: n, NodePorts: ports})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// service returns a defaulted Service of the given type.
func service(name string, typ corev1.ServiceType, ports ...corev1.ServicePort) *corev1.Service {
	if len(ports) == 0 {
		ports = []corev1.ServicePort{{Name: "http", Port: 80}}
	}
	svc := &corev1.Service{ObjectMeta: meta(name), Spec: corev1.ServiceSpec{Type: typ, Ports: ports, Selector: map[string]string{"app": name}}}
	For(schema.GroupKind{Kind: "Service"}).Default(svc)
	return svc
}

func invalidDetail(t *testing.T, err error) string {
	t.Helper()
	var inv *InvalidError
	if !errors.As(err, &inv) || len(inv.Errs) != 1 {
		t.Fatalf("error %v is not one InvalidError", err)
	}
	return inv.Errs[0].Field + ": " + inv.Errs[0].Detail
}

func TestAllocateCreate(t *testing.T) {
	ctx := context.Background()
	a := newAllocator(t, registrytest.NewStore(), "10.96.0.0/24", PortRange{})

	kube := service("kubernetes", corev1.ServiceTypeClusterIP)
	kube.Spec.ClusterIP = "10.96.0.1"
	if _, err := a.AllocateCreate(ctx, kube); err != nil || kube.Spec.ClusterIPs[0] != "10.96.0.1" {
		t.Fatalf("kubernetes service: %v, %v", err, kube.Spec.ClusterIPs)
	}
	web := service("web", corev1.ServiceTypeNodePort)
	if _, err := a.AllocateCreate(ctx, web); err != nil {
		t.Fatal(err)
	}
	if ip := net.ParseIP(web.Spec.ClusterIP); ip == nil || web.Spec.ClusterIP == "10.96.0.1" || web.Spec.ClusterIPs[0] != web.Spec.ClusterIP {
		t.Errorf("web cluster IP %q / %v", web.Spec.ClusterIP, web.Spec.ClusterIPs)
	}
	if np := web.Spec.Ports[0].NodePort; np < 30000 || np > 32767 {
		t.Errorf("node port %d", np)
	}

	for _, tc := range []struct {
		name   string
		svc    *corev1.Service
		detail string
	}{
		{"IP taken", withIP(service("a", corev1.ServiceTypeClusterIP), "10.96.0.1"),
			"spec.clusterIPs: failed to allocate IP 10.96.0.1: provided IP is already allocated"},
		{"IP out of range", withIP(service("b", corev1.ServiceTypeClusterIP), "10.97.0.1"),
			"spec.clusterIPs: failed to allocate IP 10.97.0.1: the provided IP (10.97.0.1) is not in the valid range. The range of valid IPs is 10.96.0.0/24"},
		{"port taken", withNodePort(service("c", corev1.ServiceTypeNodePort), web.Spec.Ports[0].NodePort),
			"spec.ports[0].nodePort: provided port is already allocated"},
		{"port out of range", withNodePort(service("d", corev1.ServiceTypeNodePort), 8080),
			"spec.ports[0].nodePort: provided port is not in the valid range. The range of valid ports is 30000-32767"},
		{"dual stack required", withPolicy(service("e", corev1.ServiceTypeClusterIP), corev1.IPFamilyPolicyRequireDualStack),
			"spec.ipFamilyPolicy: this cluster is not configured for dual-stack services"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := a.AllocateCreate(ctx, tc.svc)
			if got := invalidDetail(t, err); got != tc.detail {
				t.Errorf("error\n got %s\nwant %s", got, tc.detail)
			}
		})
	}
	ips, ports, err := a.Allocated(ctx)
	if err != nil || len(ips) != 2 || len(ports) != 1 {
		t.Fatalf("after failed requests: ips %v ports %v err %v (failures must not leak)", ips, ports, err)
	}
}

func withIP(svc *corev1.Service, ip string) *corev1.Service {
	svc.Spec.ClusterIP, svc.Spec.ClusterIPs = ip, []string{ip}
	return svc
}

func withNodePort(svc *corev1.Service, port int32) *corev1.Service {
	svc.Spec.Ports[0].NodePort = port
	return svc
}

func withPolicy(svc *corev1.Service, p corev1.IPFamilyPolicy) *corev1.Service {
	svc.Spec.IPFamilyPolicy = &p
	return svc
}

func TestAllocateSpecialServices(t *testing.T) {
	ctx := context.Background()
	a := newAllocator(t, registrytest.NewStore(), "10.96.0.0/24", PortRange{Base: 31000, Size: 100})

	headless := withIP(service("db", corev1.ServiceTypeClusterIP), "None")
	external := service("ext", corev1.ServiceTypeExternalName)
	external.Spec.ExternalName = "db.example.com"
	for _, svc := range []*corev1.Service{headless, external} {
		if _, err := a.AllocateCreate(ctx, svc); err != nil {
			t.Fatal(err)
		}
	}
	if headless.Spec.ClusterIP != "None" || external.Spec.ClusterIP != "" {
		t.Errorf("headless %q, external %q", headless.Spec.ClusterIP, external.Spec.ClusterIP)
	}

	dns := service("dns", corev1.ServiceTypeNodePort,
		corev1.ServicePort{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP},
		corev1.ServicePort{Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP})
	if _, err := a.AllocateCreate(ctx, dns); err != nil {
		t.Fatal(err)
	}
	if p := dns.Spec.Ports; p[0].NodePort == 0 || p[0].NodePort != p[1].NodePort {
		t.Errorf("53/UDP and 53/TCP node ports %d, %d: want one shared port", p[0].NodePort, p[1].NodePort)
	}

	lb := service("lb", corev1.ServiceTypeLoadBalancer)
	lb.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	if _, err := a.AllocateCreate(ctx, lb); err != nil {
		t.Fatal(err)
	}
	if lb.Spec.HealthCheckNodePort == 0 || lb.Spec.HealthCheckNodePort == lb.Spec.Ports[0].NodePort {
		t.Errorf("health check port %d, node port %d", lb.Spec.HealthCheckNodePort, lb.Spec.Ports[0].NodePort)
	}

	noNP := service("lb2", corev1.ServiceTypeLoadBalancer)
	noNP.Spec.AllocateLoadBalancerNodePorts = ptr.To(false)
	if _, err := a.AllocateCreate(ctx, noNP); err != nil || noNP.Spec.Ports[0].NodePort != 0 {
		t.Errorf("allocateLoadBalancerNodePorts=false: %v, node port %d", err, noNP.Spec.Ports[0].NodePort)
	}
	_, ports, _ := a.Allocated(ctx)
	if len(ports) != 3 {
		t.Errorf("allocated ports %v, want 3", ports)
	}
}

func TestRollbackAndRelease(t *testing.T) {
	ctx := context.Background()
	a := newAllocator(t, registrytest.NewStore(), "10.96.0.0/24", PortRange{})
	svc := service("web", corev1.ServiceTypeNodePort)
	rollback, err := a.AllocateCreate(ctx, svc)
	if err != nil {
		t.Fatal(err)
	}
	rollback()
	rollback() // idempotent
	if ips, ports, _ := a.Allocated(ctx); len(ips)+len(ports) != 0 {
		t.Fatalf("after rollback: %v %v", ips, ports)
	}
	if _, err := a.AllocateCreate(ctx, svc); err != nil {
		t.Fatal(err)
	}
	if err := a.Release(ctx, svc); err != nil {
		t.Fatal(err)
	}
	if ips, ports, _ := a.Allocated(ctx); len(ips)+len(ports) != 0 {
		t.Fatalf("after release: %v %v", ips, ports)
	}
}

func TestAllocateUpdateTypeChanges(t *testing.T) {
	ctx := context.Background()
	a := newAllocator(t, registrytest.NewStore(), "10.96.0.0/24", PortRange{})
	old := service("web", corev1.ServiceTypeClusterIP)
	if _, err := a.AllocateCreate(ctx, old); err != nil {
		t.Fatal(err)
	}
	s := For(schema.GroupKind{Kind: "Service"})
	step := func(change func(*corev1.Service)) *corev1.Service {
		t.Helper()
		svc := old.DeepCopy()
		change(svc)
		s.Default(svc)
		s.PrepareForUpdate(svc, old)
		checkErrors(t, s.ValidateUpdate(svc, old))
		commit, _, err := a.AllocateUpdate(ctx, svc, old)
		if err != nil {
			t.Fatal(err)
		}
		commit()
		old = svc
		return svc
	}

	np := step(func(svc *corev1.Service) { svc.Spec.Type = corev1.ServiceTypeNodePort })
	port := int(np.Spec.Ports[0].NodePort)
	if port == 0 || np.Spec.ClusterIP == "" {
		t.Fatalf("ClusterIP->NodePort: %+v", np.Spec)
	}
	back := step(func(svc *corev1.Service) { svc.Spec.Type = corev1.ServiceTypeClusterIP })
	if _, ports, _ := a.Allocated(ctx); len(ports) != 0 || back.Spec.Ports[0].NodePort != 0 {
		t.Fatalf("NodePort->ClusterIP kept ports %v / %d", ports, back.Spec.Ports[0].NodePort)
	}
	ip := back.Spec.ClusterIP
	step(func(svc *corev1.Service) {
		svc.Spec.Type, svc.Spec.ExternalName = corev1.ServiceTypeExternalName, "db.example.com"
	})
	if ips, _, _ := a.Allocated(ctx); len(ips) != 0 {
		t.Fatalf("->ExternalName kept %v (was %s)", ips, ip)
	}
	again := step(func(svc *corev1.Service) { svc.Spec.Type, svc.Spec.ExternalName = corev1.ServiceTypeClusterIP, "" })
	if ips, _, _ := a.Allocated(ctx); len(ips) != 1 || ips[0].String() != again.Spec.ClusterIP {
		t.Fatalf("ExternalName->ClusterIP: %v vs %q", ips, again.Spec.ClusterIP)
	}
}

func TestAllocateUpdateRollback(t *testing.T) {
	ctx := context.Background()
	a := newAllocator(t, registrytest.NewStore(), "10.96.0.0/24", PortRange{})
	old := service("web", corev1.ServiceTypeNodePort)
	if _, err := a.AllocateCreate(ctx, old); err != nil {
		t.Fatal(err)
	}
	svc := old.DeepCopy()
	svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{Name: "https", Port: 443, Protocol: corev1.ProtocolTCP})
	_, rollback, err := a.AllocateUpdate(ctx, svc, old)
	if err != nil {
		t.Fatal(err)
	}
	if svc.Spec.Ports[1].NodePort == 0 || svc.Spec.Ports[0].NodePort != old.Spec.Ports[0].NodePort {
		t.Fatalf("ports %+v", svc.Spec.Ports)
	}
	rollback()
	_, ports, _ := a.Allocated(ctx)
	if !slices.Equal(ports, []int{int(old.Spec.Ports[0].NodePort)}) {
		t.Fatalf("after rollback ports %v, want only old's", ports)
	}
}

// TestPersistenceAcrossRestart: a second allocator over the same store (a
// restarted apiserver, or a second one) never hands out what the first did.
func TestPersistenceAcrossRestart(t *testing.T) {
	ctx := context.Background()
	store := registrytest.NewStore()
	first := newAllocator(t, store, "10.96.0.0/28", PortRange{Base: 30000, Size: 16})
	seenIP, seenPort := map[string]bool{}, map[int32]bool{}
	alloc := func(a *ServiceAllocator, i int) error {
		svc := service(fmt.Sprintf("s%d", i), corev1.ServiceTypeNodePort)
		if _, err := a.AllocateCreate(ctx, svc); err != nil {
			return err
		}
		if seenIP[svc.Spec.ClusterIP] || seenPort[svc.Spec.Ports[0].NodePort] {
			t.Fatalf("%s / %d handed out twice", svc.Spec.ClusterIP, svc.Spec.Ports[0].NodePort)
		}
		seenIP[svc.Spec.ClusterIP], seenPort[svc.Spec.Ports[0].NodePort] = true, true
		return nil
	}
	for i := 0; i < 6; i++ {
		if err := alloc(first, i); err != nil {
			t.Fatal(err)
		}
	}
	second := newAllocator(t, store, "10.96.0.0/28", PortRange{Base: 30000, Size: 16})
	var err error
	for i := 6; err == nil; i++ {
		if err = alloc(second, i); err == nil {
			err = alloc(first, 100+i) // interleave: each must see the other's writes
		}
	}
	if !errors.Is(err, ipam.ErrFull) {
		t.Fatalf("end: %v, want range full", err)
	}
	if len(seenIP) != 13 { // /28: 14 usable, .1 only on request
		t.Errorf("allocated %d IPs, want 13", len(seenIP))
	}
}

func TestConflictRetry(t *testing.T) {
	ctx := context.Background()
	store := registrytest.NewStore()
	a := newAllocator(t, store, "10.96.0.0/24", PortRange{})
	other := newAllocator(t, store, "10.96.0.0/24", PortRange{})
	if _, err := a.AllocateCreate(ctx, service("warm", corev1.ServiceTypeClusterIP)); err != nil {
		t.Fatal(err) // a now caches the stored bitmap
	}
	var stolen *corev1.Service
	store.BeforeWrite = func(key string) {
		if key == ServiceIPsKey && stolen == nil {
			store.BeforeWrite = nil
			stolen = withIP(service("thief", corev1.ServiceTypeClusterIP), "10.96.0.200")
			if _, err := other.AllocateCreate(ctx, stolen); err != nil {
				t.Error(err)
			}
		}
	}
	svc := withIP(service("victim", corev1.ServiceTypeClusterIP), "10.96.0.200")
	_, err := a.AllocateCreate(ctx, svc)
	if got := invalidDetail(t, err); !strings.Contains(got, "provided IP is already allocated") {
		t.Fatalf("after a concurrent write of the same IP: %s", got)
	}
}

func TestConcurrentAllocations(t *testing.T) {
	ctx := context.Background()
	store := registrytest.NewStore()
	allocs := []*ServiceAllocator{
		newAllocator(t, store, "10.96.0.0/25", PortRange{Base: 30000, Size: 200}),
		newAllocator(t, store, "10.96.0.0/25", PortRange{Base: 30000, Size: 200}),
	}
	var mu sync.Mutex
	ips := map[string]bool{}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				svc := service(fmt.Sprintf("g%d-%d", g, i), corev1.ServiceTypeNodePort)
				if _, err := allocs[g%2].AllocateCreate(ctx, svc); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if ips[svc.Spec.ClusterIP] {
					t.Errorf("%s twice", svc.Spec.ClusterIP)
				}
				ips[svc.Spec.ClusterIP] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	got, ports, err := allocs[0].Allocated(ctx)
	if err != nil || len(got) != 80 || len(ports) != 80 {
		t.Fatalf("allocated %d IPs, %d ports, %v", len(got), len(ports), err)
	}
}

func TestRepair(t *testing.T) {
	ctx := context.Background()
	store := registrytest.NewStore()
	a := newAllocator(t, store, "10.96.0.0/24", PortRange{})
	kept := service("kept", corev1.ServiceTypeNodePort)
	leaked := service("leaked", corev1.ServiceTypeNodePort)
	for _, svc := range []*corev1.Service{kept, leaked} {
		if _, err := a.AllocateCreate(ctx, svc); err != nil {
			t.Fatal(err)
		}
	}
	// Only "kept" made it into the store; a Service written before the
	// bitmap (or by an older server) holds an IP the bitmap lacks.
	orphan := withIP(service("orphan", corev1.ServiceTypeClusterIP), "10.96.0.99")
	restarted := newAllocator(t, store, "10.96.0.0/24", PortRange{})
	if err := restarted.Repair(ctx, []corev1.Service{*kept, *orphan}); err != nil {
		t.Fatal(err)
	}
	ips, ports, _ := restarted.Allocated(ctx)
	wantIPs := []string{kept.Spec.ClusterIP, "10.96.0.99"}
	slices.Sort(wantIPs)
	var gotIPs []string
	for _, ip := range ips {
		gotIPs = append(gotIPs, ip.String())
	}
	slices.Sort(gotIPs)
	if !slices.Equal(gotIPs, wantIPs) || !slices.Equal(ports, []int{int(kept.Spec.Ports[0].NodePort)}) {
		t.Fatalf("after repair: ips %v (want %v), ports %v", gotIPs, wantIPs, ports)
	}
	if _, err := restarted.AllocateCreate(ctx, withIP(service("x", corev1.ServiceTypeClusterIP), leaked.Spec.ClusterIP)); err != nil {
		t.Fatalf("leaked IP not reclaimed: %v", err)
	}
	// A changed service CIDR: the stored bitmap is of another range until
	// Repair replaces it.
	moved := newAllocator(t, store, "10.100.0.0/24", PortRange{})
	if _, err := moved.AllocateCreate(ctx, service("y", corev1.ServiceTypeClusterIP)); !errors.Is(err, ipam.ErrMismatch) {
		t.Fatalf("allocating over another range's bitmap: %v", err)
	}
	if err := moved.Repair(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := moved.AllocateCreate(ctx, service("y", corev1.ServiceTypeClusterIP)); err != nil {
		t.Fatal(err)
	}
}
