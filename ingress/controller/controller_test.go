package controller

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/fake"

	"rudder/ingress/route"
)

type fakeProxy struct {
	mu sync.Mutex
	t  route.Table
}

func (p *fakeProxy) Swap(t route.Table) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.t = t
}

func (p *fakeProxy) match(host, path string) *route.Route {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.t == nil {
		return nil
	}
	return p.t.Match(host, path)
}

func objects() []any {
	ready := true
	class := "rudder"
	other := "other"
	return []any{
		&networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "rudder"}, Spec: networkingv1.IngressClassSpec{Controller: "rudder.io/ingress"}},
		&networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "other"}, Spec: networkingv1.IngressClassSpec{Controller: "example.com/other"}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}}}},
		&discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web-1", Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr(int32(8080))}},
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.244.1.5"}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}}},
		ingress("mine", &class, "web.example"),
		ingress("theirs", &other, "theirs.example"),
		// Left by this controller before a restart: the Ingress moved to
		// a class that does not exist meanwhile.
		withStatus(ingress("leftover", ptr("gone"), "leftover.example"), "198.18.0.11"),
		// Another controller publishing the same address is left alone.
		withStatus(ingress("theirs-too", &other, "theirs-too.example"), "198.18.0.11"),
	}
}

func withStatus(ing *networkingv1.Ingress, ip string) *networkingv1.Ingress {
	ing.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{IP: ip}}
	return ing
}

func ptr[T any](v T) *T { return &v }

func ingress(name string, class *string, host string) *networkingv1.Ingress {
	pt := networkingv1.PathTypePrefix
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, CreationTimestamp: metav1.Now(),
			Annotations: map[string]string{"rudder.io/no-such-thing": "x"}},
		Spec: networkingv1.IngressSpec{IngressClassName: class, Rules: []networkingv1.IngressRule{{Host: host,
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
				Path: "/", PathType: &pt,
				Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web",
					Port: networkingv1.ServiceBackendPort{Name: "http"}}}}}}}}}},
	}
}

// TestController: from the API objects to a table in the proxy, the
// publish addresses in the served Ingress's status (and not in the
// other class's), an Event for the unknown annotation, and a change of
// endpoints reaching the proxy.
func TestController(t *testing.T) {
	client := fake.NewClientset()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, o := range objects() {
		var err error
		switch o := o.(type) {
		case *networkingv1.IngressClass:
			_, err = client.NetworkingV1().IngressClasses().Create(ctx, o, metav1.CreateOptions{})
		case *networkingv1.Ingress:
			_, err = client.NetworkingV1().Ingresses(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		case *corev1.Service:
			_, err = client.CoreV1().Services(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		case *discoveryv1.EndpointSlice:
			_, err = client.DiscoveryV1().EndpointSlices(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	p := &fakeProxy{}
	c, err := New(Config{Client: client, Proxy: p, PublishAddresses: []netip.Addr{netip.MustParseAddr("198.18.0.11")},
		MinSyncInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() { cancel(); <-done }()

	waitFor(t, "a route to web.example", func() bool {
		r := p.match("web.example", "/x")
		return r != nil && r.Backend != nil && len(r.Backend.Endpoints) == 1
	})
	if r := p.match("theirs.example", "/"); r != nil {
		t.Errorf("an Ingress of another class is routed: %+v", r)
	}
	if !c.Ready() {
		t.Error("not Ready after the first table")
	}
	waitFor(t, "status of ns/mine", func() bool {
		ing, err := client.NetworkingV1().Ingresses("ns").Get(ctx, "mine", metav1.GetOptions{})
		return err == nil && len(ing.Status.LoadBalancer.Ingress) == 1 && ing.Status.LoadBalancer.Ingress[0].IP == "198.18.0.11"
	})
	ing, _ := client.NetworkingV1().Ingresses("ns").Get(ctx, "theirs", metav1.GetOptions{})
	if len(ing.Status.LoadBalancer.Ingress) != 0 {
		t.Errorf("status written on another class's Ingress: %+v", ing.Status)
	}
	waitFor(t, "the leftover address cleared", func() bool {
		ing, err := client.NetworkingV1().Ingresses("ns").Get(ctx, "leftover", metav1.GetOptions{})
		return err == nil && len(ing.Status.LoadBalancer.Ingress) == 0
	})
	if ing, _ := client.NetworkingV1().Ingresses("ns").Get(ctx, "theirs-too", metav1.GetOptions{}); len(ing.Status.LoadBalancer.Ingress) != 1 {
		t.Errorf("status of another class's Ingress changed: %+v", ing.Status)
	}
	waitFor(t, "an event about the unknown annotation", func() bool {
		evs, _ := client.CoreV1().Events("ns").List(ctx, metav1.ListOptions{})
		for _, e := range evs.Items {
			if e.InvolvedObject.Name == "mine" && e.Type == corev1.EventTypeWarning && strings.Contains(e.Message, "no-such-thing") {
				return true
			}
		}
		return false
	})

	// A second endpoint reaches the proxy.
	ready := true
	es, _ := client.DiscoveryV1().EndpointSlices("ns").Get(ctx, "web-1", metav1.GetOptions{})
	es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{Addresses: []string{"10.244.2.7"}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}})
	if _, err := client.DiscoveryV1().EndpointSlices("ns").Update(ctx, es, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "two endpoints", func() bool {
		r := p.match("web.example", "/")
		return r != nil && r.Backend != nil && len(r.Backend.Endpoints) == 2
	})
	if d := c.Dump(); !strings.Contains(d, "web.example") {
		t.Errorf("Dump does not name the host:\n%s", d)
	}

	// Moving the Ingress to the other class takes it out of the table
	// and clears the status this controller wrote.
	ing, _ = client.NetworkingV1().Ingresses("ns").Get(ctx, "mine", metav1.GetOptions{})
	ing.Spec.IngressClassName = ptr("other")
	if _, err := client.NetworkingV1().Ingresses("ns").Update(ctx, ing, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the moved Ingress leaves the table and its status", func() bool {
		ing, err := client.NetworkingV1().Ingresses("ns").Get(ctx, "mine", metav1.GetOptions{})
		return p.match("web.example", "/") == nil && err == nil && len(ing.Status.LoadBalancer.Ingress) == 0
	})
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if ok() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}
