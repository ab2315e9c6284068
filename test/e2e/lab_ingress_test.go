package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// ingNS is the namespace of the ingress lab test's workloads.
const ingNS = "ingtest"

// ingressManifest: two netexec Deployments behind Services (foo on a
// numbered, bar on a named port), Ingresses of class rudder routing by
// host and path (one with a rewrite), and Ingresses that must be
// ignored: one of another controller's class, one naming a class that
// does not exist.
const ingressManifest = `apiVersion: v1
kind: Namespace
metadata:
  name: ingtest
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: foo, namespace: ingtest}
spec:
  replicas: 2
  selector: {matchLabels: {app: foo}}
  template:
    metadata: {labels: {app: foo}}
    spec:
      terminationGracePeriodSeconds: 10
      containers:
      - name: netexec
        image: rudder
        args: ["netexec", "--http-port=8080", "--udp-port=0", "--graceful-shutdown=2s"]
        readinessProbe:
          httpGet: {path: /healthz, port: 8080}
          periodSeconds: 1
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: bar, namespace: ingtest}
spec:
  replicas: 1
  selector: {matchLabels: {app: bar}}
  template:
    metadata: {labels: {app: bar}}
    spec:
      containers:
      - name: netexec
        image: rudder
        args: ["netexec", "--http-port=9090", "--udp-port=0"]
        readinessProbe:
          httpGet: {path: /healthz, port: 9090}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata: {name: foo, namespace: ingtest}
spec:
  selector: {app: foo}
  ports:
  - {port: 80, targetPort: 8080}
---
apiVersion: v1
kind: Service
metadata: {name: bar, namespace: ingtest}
spec:
  selector: {app: bar}
  ports:
  - {name: web, port: 80, targetPort: 9090}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: routes, namespace: ingtest}
spec:
  ingressClassName: rudder
  rules:
  - host: foo.example
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: foo, port: {number: 80}}}}
  - host: "*.wild.example"
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: bar, port: {name: web}}}}
  - host: bar.example
    http:
      paths:
      - {path: /hostname, pathType: Exact, backend: {service: {name: foo, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: rewrite
  namespace: ingtest
  annotations:
    nginx.ingress.kubernetes.io/rewrite-target: /$2
    nginx.ingress.kubernetes.io/configuration-snippet: "more_set_headers 'X: y';"
spec:
  ingressClassName: rudder
  rules:
  - host: bar.example
    http:
      paths:
      - {path: /api(/|$)(.*), pathType: ImplementationSpecific, backend: {service: {name: bar, port: {name: web}}}}
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: other}
spec:
  controller: example.com/other
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: other-class, namespace: ingtest}
spec:
  ingressClassName: other
  rules:
  - host: other.example
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: foo, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: no-class, namespace: ingtest}
spec:
  ingressClassName: missing
  rules:
  - host: missing.example
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: foo, port: {number: 80}}}}
`

// secureIngress serves secure.example with the certificate of the Secret
// the test creates with kubectl.
const secureIngress = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: secure, namespace: ingtest}
spec:
  ingressClassName: rudder
  tls:
  - hosts: [secure.example]
    secretName: secure-tls
  rules:
  - host: secure.example
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: foo, port: {number: 80}}}}
`

// TestLabIngress: deploy/ingress.yaml, installed by lab up, serves
// Ingresses applied with kubectl on every node: by host and path, TLS
// from a Secret, status addresses, other classes ignored, and a rolling
// update of a backend under a steady stream of requests without a single
// failed request.
func TestLabIngress(t *testing.T) {
	addons := t.TempDir()
	manifest, err := os.ReadFile("../../deploy/ingress.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(addons, "ingress.yaml"), manifest, 0o644); err != nil {
		t.Fatal(err)
	}
	e := upLabWith(t, labOptions{nodes: 2, proxyMode: "nftables", subnet: "198.18.245.0/24", addons: addons})
	e.k.ok("-n", "rudder-ingress", "rollout", "status", "daemonset/rudder-ingress", "--timeout=90s")
	e.k.ok("apply", "-f", e.k.file("ingress.yaml", ingressManifest))
	e.k.ok("-n", ingNS, "rollout", "status", "deployment/foo", "--timeout=60s")
	e.k.ok("-n", ingNS, "rollout", "status", "deployment/bar", "--timeout=60s")
	var nodeIPs []string
	for _, n := range e.lab.Nodes() {
		nodeIPs = append(nodeIPs, n.IP.String())
	}
	slices.Sort(nodeIPs)
	fooPods, barPods := podNames(e.pods(ingNS, "app=foo")), podNames(e.pods(ingNS, "app=bar"))

	t.Run("routes by host and path on every node", func(t *testing.T) {
		for _, ip := range nodeIPs {
			c := ingressClient(ip)
			eventually(t, "foo.example through "+ip, 20*time.Second, func() error {
				return expectBody(c, "http://foo.example/hostname", 200, fooPods...)
			})
			for _, tc := range []struct {
				url    string
				status int
				from   []string
			}{
				{"http://FOO.example/hostname", 200, fooPods},
				{"http://a.wild.example/hostname", 200, barPods},
				{"http://b.a.wild.example/hostname", 404, nil},
				{"http://bar.example/hostname", 200, fooPods},
				{"http://bar.example/api/hostname", 200, barPods},
				{"http://bar.example/other", 404, nil},
				{"http://other.example/hostname", 404, nil},
				{"http://missing.example/hostname", 404, nil},
			} {
				if err := expectBody(c, tc.url, tc.status, tc.from...); err != nil {
					t.Errorf("via %s: %v", ip, err)
				}
			}
		}
	})

	t.Run("status has the node addresses, other classes none", func(t *testing.T) {
		e := e.in(t)
		want := strings.Join(nodeIPs, " ")
		eventually(t, "status of routes", 20*time.Second, func() error {
			got := e.jsonpath("get", "ingress", "-n", ingNS, "routes", "-o", "jsonpath={.status.loadBalancer.ingress[*].ip}")
			if got != want {
				return fmt.Errorf("status %q, want %q", got, want)
			}
			return nil
		})
		for _, name := range []string{"other-class", "no-class"} {
			if got := e.jsonpath("get", "ingress", "-n", ingNS, name, "-o", "jsonpath={.status.loadBalancer}"); got != "{}" && got != "" {
				t.Errorf("ingress %s got a status: %s", name, got)
			}
		}
	})

	t.Run("an unsupported annotation is reported in an Event", func(t *testing.T) {
		e := e.in(t)
		eventually(t, "event on ingress rewrite", 20*time.Second, func() error {
			got := e.k.ok("get", "events", "-n", ingNS, "--field-selector", "involvedObject.name=rewrite", "-o", "custom-columns=TYPE:.type,REASON:.reason,MESSAGE:.message")
			if !strings.Contains(got, "Warning") || !strings.Contains(got, "configuration-snippet") {
				return fmt.Errorf("events:\n%s", got)
			}
			return nil
		})
	})

	t.Run("TLS from a Secret created with kubectl", func(t *testing.T) {
		e := e.in(t)
		certFile, keyFile, serial := writeCert(t, "secure.example")
		e.k.ok("create", "secret", "tls", "secure-tls", "-n", ingNS, "--cert", certFile, "--key", keyFile)
		e.k.ok("apply", "-f", e.k.file("secure.yaml", secureIngress))
		ip := nodeIPs[len(nodeIPs)-1]
		eventually(t, "secure.example serves its certificate", 20*time.Second, func() error {
			got, err := servedSerial(ip, "secure.example")
			if err == nil && got.Cmp(serial) != 0 {
				err = fmt.Errorf("served serial %s, want %s", got, serial)
			}
			return err
		})
		c := ingressClient(ip)
		if err := expectBody(c, "https://secure.example/hostname", 200, fooPods...); err != nil {
			t.Error(err)
		}
		// A new certificate in the same Secret is served without a restart.
		certFile2, keyFile2, serial2 := writeCert(t, "secure.example")
		updated := e.k.ok("create", "secret", "tls", "secure-tls", "-n", ingNS, "--cert", certFile2, "--key", keyFile2,
			"--dry-run=client", "-o", "yaml")
		e.k.ok("apply", "-f", e.k.file("secure-tls.yaml", updated))
		eventually(t, "secure.example serves the renewed certificate", 20*time.Second, func() error {
			got, err := servedSerial(ip, "secure.example")
			if err == nil && got.Cmp(serial2) != 0 {
				err = fmt.Errorf("served serial %s, want %s", got, serial2)
			}
			return err
		})
		resp, err := c.Get("http://secure.example/hostname?x=1")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusPermanentRedirect || loc != "https://secure.example/hostname?x=1" {
			t.Errorf("plain HTTP to a TLS host: %d Location %q, want 308 to https", resp.StatusCode, loc)
		}
	})

	t.Run("rolling update without a failed request", func(t *testing.T) {
		e := e.in(t)
		stream := startStream(ingressClient(nodeIPs[0]), "http://foo.example/hostname")
		time.Sleep(time.Second)
		e.k.ok("-n", ingNS, "rollout", "restart", "deployment/foo")
		e.k.ok("-n", ingNS, "rollout", "status", "deployment/foo", "--timeout=90s")
		time.Sleep(time.Second)
		res := stream.stop()
		newPods := podNames(e.pods(ingNS, "app=foo"))
		t.Logf("%d requests during the rollout; served by %v", res.ok+res.failed, res.servedBy)
		if res.failed > 0 {
			t.Errorf("%d of %d requests failed during the rolling update; first: %s", res.failed, res.ok+res.failed, res.firstErr)
		}
		if !anyOf(res.servedBy, fooPods) || !anyOf(res.servedBy, newPods) {
			t.Errorf("the stream was served by %v: want old pods %v and new pods %v", res.servedBy, fooPods, newPods)
		}
	})
}

func podNames(pods []podInfo) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}

func anyOf(have map[string]int, names []string) bool {
	for _, n := range names {
		if have[n] > 0 {
			return true
		}
	}
	return false
}

// ingressClient sends every request to ip (port 80 or 443 by scheme)
// whatever the URL's host, like curl --resolve; TLS is not verified
// (the certificate test checks what is served itself).
func ingressClient(ip string) *http.Client {
	d := net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, _ := net.SplitHostPort(addr)
			return d.DialContext(ctx, network, net.JoinHostPort(ip, port))
		},
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true},
		MaxIdleConnsPerHost: 4,
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// expectBody checks the status, and that the body is one of from (pod
// names answered by /hostname) when from is given.
func expectBody(c *http.Client, url string, status int, from ...string) error {
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	body := strings.TrimSpace(string(b))
	if resp.StatusCode != status {
		return fmt.Errorf("GET %s: %d %q, want %d", url, resp.StatusCode, body, status)
	}
	if len(from) > 0 && !slices.Contains(from, body) {
		return fmt.Errorf("GET %s: answered by %q, want one of %v", url, body, from)
	}
	return nil
}

// writeCert writes a self-signed certificate and key for host and
// returns the files and the certificate's serial number.
func writeCert(t *testing.T, host string) (certFile, keyFile string, serial *big.Int) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ = rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, serial
}

// servedSerial is the serial of the certificate ip:443 serves for sni.
func servedSerial(ip, sni string) (*big.Int, error) {
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", net.JoinHostPort(ip, "443"),
		&tls.Config{ServerName: sni, InsecureSkipVerify: true})
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber, nil
}

// stream sends GETs back to back over keep-alive connections from two
// clients until stopped, counting failures and who answered.
type stream struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	res    streamResult
}

type streamResult struct {
	ok, failed int
	firstErr   string
	servedBy   map[string]int
}

func startStream(c *http.Client, url string) *stream {
	ctx, cancel := context.WithCancel(context.Background())
	s := &stream{cancel: cancel, res: streamResult{servedBy: map[string]int{}}}
	for range 2 {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for ctx.Err() == nil {
				s.record(c, url)
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	return s
}

func (s *stream) record(c *http.Client, url string) {
	resp, err := c.Get(url)
	var body string
	if err == nil {
		b, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = strings.TrimSpace(string(b))
		switch {
		case rerr != nil:
			err = rerr
		case resp.StatusCode/100 != 2:
			err = fmt.Errorf("%d %q", resp.StatusCode, body)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.res.failed++
		if s.res.firstErr == "" {
			s.res.firstErr = fmt.Sprintf("%s at %s", err, time.Now().Format("15:04:05.000"))
		}
		return
	}
	s.res.ok++
	s.res.servedBy[body]++
}

func (s *stream) stop() streamResult {
	s.cancel()
	s.wg.Wait()
	return s.res
}
