package ingressbench

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	networking "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"rudder/bench/benchproc"
	"rudder/controlplane/pki"
)

// The objects the benchmark creates.
const (
	namespace   = "bench"
	serviceName = "backend"
	ingressName = "bench"
	// secretName is the kubernetes.io/tls Secret of Host. Rudder also
	// serves it to names no Ingress covers (--default-ssl-certificate),
	// such as the 127.0.0.1 wrk sends as the server name; nginx serves
	// its only certificate to every name.
	secretName = "bench-tls"
	className  = "rudder"
	controller = "rudder.io/ingress"
	// benchManagedBy marks the EndpointSlices the benchmark writes
	// itself, so the endpointslice controller leaves them alone.
	benchManagedBy = "ingressbench.rudder.io"
)

// startBackends runs n `rudder netexec` processes on free ports and
// waits until each answers /healthz. Each has GOMAXPROCS=1: pinned, both
// share one CPU; unpinned, the two together can use two.
func startBackends(ctx context.Context, ps *benchproc.Group, rudderBin, logDir string, n int) ([]*backend, error) {
	var out []*backend
	for i := range n {
		port, err := benchproc.FreeTCPPort()
		if err != nil {
			return nil, err
		}
		log := filepath.Join(logDir, "netexec-"+strconv.Itoa(i)+".log")
		p, err := ps.Start("netexec "+strconv.Itoa(i), log, "", []string{"GOMAXPROCS=1"}, rudderBin, "netexec",
			"--http-port", strconv.Itoa(port), "--udp-port", "0", "--log-level", "warn")
		if err != nil {
			return nil, err
		}
		b := &backend{proc: p, port: port}
		url := "http://" + b.addr() + "/healthz"
		if err := p.Poll(ctx, 30*time.Second, func() bool { return httpOK(url, "") }); err != nil {
			return nil, fmt.Errorf("wait for backend %d: %w", i, err)
		}
		out = append(out, b)
	}
	return out, nil
}

// backend is one netexec process.
type backend struct {
	proc *benchproc.Proc
	port int
}

func (b *backend) addr() string { return "127.0.0.1:" + strconv.Itoa(b.port) }

// checkBody fetches url once with the bench's Host header and fails
// unless it answers 200 with exactly n bytes: every path must serve
// the same response. Over TLS the server's certificate must verify
// against roots: both TLS paths serve the bench certificate.
func checkBody(url string, n int, roots *x509.CertPool) error {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("check %s: %w", url, err)
	}
	req.Host = Host
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true,
		TLSClientConfig: &tls.Config{RootCAs: roots}}}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("check %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("check %s: read body: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK || len(body) != n {
		return fmt.Errorf("check %s: got %s with %d bytes, want 200 with %d", url, resp.Status, len(body), n)
	}
	return nil
}

// httpOK says whether a GET of url (with Host header host when set)
// answers 200.
func httpOK(url, host string) bool {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	if host != "" {
		req.Host = host
	}
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// createObjects writes the namespace, the IngressClass, a Service
// without selector, one EndpointSlice per backend (netexec binds only a
// port, so each backend has its own port number under the same port name),
// the TLS Secret of Host and the Ingress routing Host / to the Service.
func createObjects(ctx context.Context, cs kubernetes.Interface, backends []*backend, cert benchCert) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create namespace %s: %w", namespace, err)
	}
	class := &networking.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: className},
		Spec: networking.IngressClassSpec{Controller: controller}}
	if _, err := cs.NetworkingV1().IngressClasses().Create(ctx, class, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create ingressclass %s: %w", className, err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: serviceName, Namespace: namespace},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{
			Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromString("http"),
		}}},
	}
	if _, err := cs.CoreV1().Services(namespace).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create service %s/%s: %w", namespace, serviceName, err)
	}
	for i, b := range backends {
		s := backendSlice(i, b.port)
		if _, err := cs.DiscoveryV1().EndpointSlices(namespace).Create(ctx, s, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create endpointslice %s/%s: %w", namespace, s.Name, err)
		}
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: secretName, Namespace: namespace},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{corev1.TLSCertKey: cert.certPEM, corev1.TLSPrivateKeyKey: cert.keyPEM},
	}
	if _, err := cs.CoreV1().Secrets(namespace).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create secret %s/%s: %w", namespace, secretName, err)
	}
	if _, err := cs.NetworkingV1().Ingresses(namespace).Create(ctx, benchIngress(), metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create ingress %s/%s: %w", namespace, ingressName, err)
	}
	return nil
}

// backendSlice is the EndpointSlice of the i-th backend: one ready
// endpoint, 127.0.0.1, port "http" = port.
func backendSlice(i, port int) *discovery.EndpointSlice {
	ready := true
	proto, p, name := corev1.ProtocolTCP, int32(port), "http"
	return &discovery.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: serviceName + "-" + strconv.Itoa(i), Namespace: namespace, Labels: map[string]string{
			discovery.LabelServiceName: serviceName, discovery.LabelManagedBy: benchManagedBy,
		}},
		AddressType: discovery.AddressTypeIPv4,
		Ports:       []discovery.EndpointPort{{Name: &name, Protocol: &proto, Port: &p}},
		Endpoints: []discovery.Endpoint{{
			Addresses:  []string{"127.0.0.1"},
			Conditions: discovery.EndpointConditions{Ready: &ready},
		}},
	}
}

// benchIngress routes Host, path / (Prefix), to the Service's port 80,
// with TLS from secretName; plain HTTP is served too, not redirected
// (ssl-redirect off), for the plain paths.
func benchIngress() *networking.Ingress {
	class, prefix := className, networking.PathTypePrefix
	return &networking.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: ingressName, Namespace: namespace,
			Annotations: map[string]string{"rudder.io/ssl-redirect": "false"}},
		Spec: networking.IngressSpec{
			IngressClassName: &class,
			TLS:              []networking.IngressTLS{{Hosts: []string{Host}, SecretName: secretName}},
			Rules: []networking.IngressRule{{Host: Host, IngressRuleValue: networking.IngressRuleValue{
				HTTP: &networking.HTTPIngressRuleValue{Paths: []networking.HTTPIngressPath{{
					Path: "/", PathType: &prefix,
					Backend: networking.IngressBackend{Service: &networking.IngressServiceBackend{
						Name: serviceName, Port: networking.ServiceBackendPort{Number: 80},
					}},
				}}},
			}}},
		},
	}
}

// benchCert is Host's certificate and key, PEM, as files for nginx and
// bytes for the Secret.
type benchCert struct {
	certFile, keyFile string
	certPEM, keyPEM   []byte
	roots             *x509.CertPool // the CA that issued it
}

// newBenchCert issues an ECDSA P-256 certificate for Host and 127.0.0.1
// from a throwaway CA in dir.
func newBenchCert(dir string) (benchCert, error) {
	ca, err := pki.LoadOrCreateCA(dir, "ingressbench CA")
	if err != nil {
		return benchCert{}, fmt.Errorf("create the bench CA: %w", err)
	}
	c := benchCert{roots: ca.Pool()}
	c.certFile, c.keyFile, err = ca.LoadOrIssue(dir, "bench", pki.Leaf{CommonName: Host, DNSNames: []string{Host},
		IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, Server: true})
	if err != nil {
		return c, fmt.Errorf("issue the bench certificate: %w", err)
	}
	if c.certPEM, err = os.ReadFile(c.certFile); err != nil {
		return c, fmt.Errorf("read the bench certificate: %w", err)
	}
	if c.keyPEM, err = os.ReadFile(c.keyFile); err != nil {
		return c, fmt.Errorf("read the bench key: %w", err)
	}
	return c, nil
}
