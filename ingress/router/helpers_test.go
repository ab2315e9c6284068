package router

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// ing is an Ingress of class "rudder" created age minutes after epoch.
func ing(ns, name string, age int, rules ...networkingv1.IngressRule) *networkingv1.Ingress {
	class := "rudder"
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
			CreationTimestamp: metav1.NewTime(epoch.Add(time.Duration(age) * time.Minute))},
		Spec: networkingv1.IngressSpec{IngressClassName: &class, Rules: rules},
	}
}

func withAnnotations(i *networkingv1.Ingress, kv ...string) *networkingv1.Ingress {
	if i.Annotations == nil {
		i.Annotations = map[string]string{}
	}
	for j := 0; j+1 < len(kv); j += 2 {
		i.Annotations[kv[j]] = kv[j+1]
	}
	return i
}

func withDefault(i *networkingv1.Ingress, svc string, port int) *networkingv1.Ingress {
	i.Spec.DefaultBackend = backend(svc, port)
	return i
}

func withTLS(i *networkingv1.Ingress, secret string, hosts ...string) *networkingv1.Ingress {
	i.Spec.TLS = append(i.Spec.TLS, networkingv1.IngressTLS{SecretName: secret, Hosts: hosts})
	return i
}

func rule(host string, paths ...networkingv1.HTTPIngressPath) networkingv1.IngressRule {
	return networkingv1.IngressRule{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{
		HTTP: &networkingv1.HTTPIngressRuleValue{Paths: paths}}}
}

// backend names a service port by number (port > 0) or, with port <= 0,
// by the name "http".
func backend(svc string, port int) *networkingv1.IngressBackend {
	p := networkingv1.ServiceBackendPort{Number: int32(port)}
	if port <= 0 {
		p = networkingv1.ServiceBackendPort{Name: "http"}
	}
	return &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: svc, Port: p}}
}

func path(pt networkingv1.PathType, p, svc string, port int) networkingv1.HTTPIngressPath {
	return networkingv1.HTTPIngressPath{Path: p, PathType: &pt, Backend: *backend(svc, port)}
}

const (
	exact  = networkingv1.PathTypeExact
	prefix = networkingv1.PathTypePrefix
	impl   = networkingv1.PathTypeImplementationSpecific
)

func ourClass(name string, isDefault bool) *networkingv1.IngressClass {
	c := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: networkingv1.IngressClassSpec{Controller: DefaultController}}
	if isDefault {
		c.Annotations = map[string]string{DefaultClassAnnotation: "true"}
	}
	return c
}

func otherClass(name string, isDefault bool) *networkingv1.IngressClass {
	c := ourClass(name, isDefault)
	c.Spec.Controller = "k8s.io/ingress-nginx"
	return c
}

// service has one TCP port named "http" with number port.
func service(ns, name string, port int) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: int32(port),
			TargetPort: intstr.FromInt32(8080), Protocol: corev1.ProtocolTCP}}}}
}

type ep struct {
	addr                        string
	ready, serving, terminating *bool
}

func ptr[T any](v T) *T { return &v }

// slice is an EndpointSlice of service ns/svc with port portName=port.
func slice(ns, svc, name, portName string, port int, eps ...ep) *discoveryv1.EndpointSlice {
	at := discoveryv1.AddressTypeIPv4
	if len(eps) > 0 && len(eps[0].addr) > 0 && contains(eps[0].addr, ':') {
		at = discoveryv1.AddressTypeIPv6
	}
	es := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
			Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: at,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr(portName), Port: ptr(int32(port))}},
	}
	for _, e := range eps {
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{Addresses: []string{e.addr},
			Conditions: discoveryv1.EndpointConditions{Ready: e.ready, Serving: e.serving, Terminating: e.terminating}})
	}
	return es
}

func contains(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}

// selfSigned returns PEM certificate and key for hosts.
func selfSigned(t testing.TB, hosts ...string) (crt, key []byte) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: hosts[0]},
		DNSNames: hosts, NotBefore: epoch, NotAfter: epoch.Add(24 * 365 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

func tlsSecret(t testing.TB, ns, name string, rv int, hosts ...string) *corev1.Secret {
	crt, key := selfSigned(t, hosts...)
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, ResourceVersion: strconv.Itoa(rv)},
		Type: corev1.SecretTypeTLS, Data: map[string][]byte{corev1.TLSCertKey: crt, corev1.TLSPrivateKeyKey: key}}
}

// svcOf is the service a route sends to ("" for nil route, "-" for a nil
// backend).
func svcOf(t *Table, host, p string) string {
	r := t.Match(host, p)
	switch {
	case r == nil:
		return ""
	case r.Backend == nil:
		return "-"
	}
	return r.Backend.Service
}

// withServices adds a Service (port "http" 80) for every service the
// Ingresses of in name.
func withServices(in Input) Input {
	seen := map[string]bool{}
	add := func(ns string, b *networkingv1.IngressBackend) {
		if b == nil || b.Service == nil || seen[ns+"/"+b.Service.Name] {
			return
		}
		seen[ns+"/"+b.Service.Name] = true
		in.Services = append(in.Services, service(ns, b.Service.Name, 80))
	}
	for _, i := range in.Ingresses {
		add(i.Namespace, i.Spec.DefaultBackend)
		for _, r := range i.Spec.Rules {
			if r.HTTP == nil {
				continue
			}
			for _, p := range r.HTTP.Paths {
				add(i.Namespace, &p.Backend)
			}
		}
	}
	return in
}
