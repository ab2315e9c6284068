package dnsbench

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// benchManagedBy marks the EndpointSlices the benchmark writes itself, so
// the endpointslice controller leaves them alone.
const benchManagedBy = "dnsbench.rudder.io"

// Service is one Service the benchmark created, as the query mix needs it.
type Service struct {
	Namespace, Name string
	ClusterIP       string // "None" for headless
	Endpoints       []string
}

// freeUDPTCPPort finds a port free for both UDP and TCP on loopback.
func freeUDPTCPPort() (int, error) {
	for range 20 {
		u, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("find a free port: %w", err)
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		t, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		u.Close()
		if err == nil {
			t.Close()
			return port, nil
		}
	}
	return 0, fmt.Errorf("no port free for both UDP and TCP on 127.0.0.1")
}

// serviceName is the i-th Service: svc-i in ns-(i mod namespaces).
func serviceName(i, namespaces int) (ns, name string) {
	return "ns-" + strconv.Itoa(i%namespaces), "svc-" + strconv.Itoa(i)
}

// endpointIP is the j-th endpoint address of the i-th headless Service.
func endpointIP(i, j int) string {
	n := i*8 + j
	return fmt.Sprintf("10.244.%d.%d", (n/250)%250, n%250+2)
}

// populate creates the namespaces, then cfg.Services Services (the first
// cfg.Headless headless, each with its own EndpointSlice) with 16 workers.
func populate(ctx context.Context, cs kubernetes.Interface, cfg Config, report func(done int)) ([]Service, error) {
	for n := range cfg.Namespaces {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ns-" + strconv.Itoa(n)}}
		if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
			return nil, fmt.Errorf("create namespace %s: %w", ns.Name, err)
		}
	}
	out := make([]Service, cfg.Services)
	var next, done atomic.Int64
	errs := make(chan error, 16)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= cfg.Services || ctx.Err() != nil {
					return
				}
				s, err := createService(ctx, cs, cfg, i)
				if err != nil {
					errs <- err
					return
				}
				out[i] = s
				if d := done.Add(1); d%500 == 0 {
					report(int(d))
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	return out, ctx.Err()
}

func createService(ctx context.Context, cs kubernetes.Interface, cfg Config, i int) (Service, error) {
	ns, name := serviceName(i, cfg.Namespaces)
	headless := i < cfg.Headless
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: map[string]string{"app": name},
			Ports: []corev1.ServicePort{
				{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP},
				{Name: "metrics", Port: 9090, Protocol: corev1.ProtocolTCP},
			},
		},
	}
	if headless {
		// No selector: the benchmark writes the slice, as for endpoints
		// outside the cluster.
		svc.Spec.ClusterIP, svc.Spec.Selector = corev1.ClusterIPNone, nil
	}
	got, err := cs.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{})
	if err != nil {
		return Service{}, fmt.Errorf("create service %s/%s: %w", ns, name, err)
	}
	s := Service{Namespace: ns, Name: name, ClusterIP: got.Spec.ClusterIP}
	if !headless {
		return s, nil
	}
	slice := headlessSlice(ns, name, i, cfg.EndpointsPerHeadless)
	if _, err := cs.DiscoveryV1().EndpointSlices(ns).Create(ctx, slice, metav1.CreateOptions{}); err != nil {
		return Service{}, fmt.Errorf("create endpointslice of %s/%s: %w", ns, name, err)
	}
	for _, ep := range slice.Endpoints {
		s.Endpoints = append(s.Endpoints, ep.Addresses[0])
	}
	return s, nil
}

// headlessSlice is an EndpointSlice of n ready endpoints for the i-th
// Service, with StatefulSet-style hostnames.
func headlessSlice(ns, name string, i, n int) *discovery.EndpointSlice {
	ready := true
	proto, port, portName := corev1.ProtocolTCP, int32(80), "http"
	s := &discovery.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-bench", Namespace: ns, Labels: map[string]string{
			discovery.LabelServiceName: name, discovery.LabelManagedBy: benchManagedBy,
		}},
		AddressType: discovery.AddressTypeIPv4,
		Ports:       []discovery.EndpointPort{{Name: &portName, Protocol: &proto, Port: &port}},
	}
	for j := range n {
		host := name + "-" + strconv.Itoa(j)
		s.Endpoints = append(s.Endpoints, discovery.Endpoint{
			Addresses:  []string{endpointIP(i, j)},
			Hostname:   &host,
			Conditions: discovery.EndpointConditions{Ready: &ready},
		})
	}
	return s
}

// waitSlices waits until the endpointslice controller has written a
// slice for every Service with a selector (with the headless ones' own,
// one per Service), so that the servers are measured on a settled
// cluster, not while thousands of slices still stream in.
func waitSlices(ctx context.Context, cs kubernetes.Interface, want int, report func(int)) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	for {
		list, err := cs.DiscoveryV1().EndpointSlices("").List(ctx, metav1.ListOptions{})
		if err != nil {
			return fmt.Errorf("count endpointslices: %w", err)
		}
		n := 0
		for _, s := range list.Items {
			if s.Labels[discovery.LabelServiceName] != "kubernetes" {
				n++
			}
		}
		report(n)
		if n >= want {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d endpointslices, have %d: %w", want, n, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}
