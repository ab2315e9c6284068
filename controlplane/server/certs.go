package server

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"k8s.io/client-go/rest"

	"rudder/controlplane/apiserver"
	"rudder/controlplane/pki"
)

// certSet is the TLS material the server runs with.
type certSet struct {
	ca            *pki.CA
	serving       *tls.Config
	kubeletClient *tls.Config
	adminCert     string
	adminKey      string
	loopCert      string // the control loops' client certificate
	loopKey       string
}

// ensureCerts creates (first start) or loads the CA, the serving
// certificate, the admin client certificate and the client certificate the
// apiserver presents to kubelets.
func ensureCerts(cfg Config, svcNet *net.IPNet) (*certSet, error) {
	dir := filepath.Join(cfg.DataDir, "tls")
	ca, err := pki.LoadOrCreateCA(dir, "rudder-ca")
	if err != nil {
		return nil, err
	}
	leaf := pki.Leaf{CommonName: "kube-apiserver", Server: true, IPs: pki.HostIPs(),
		DNSNames: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}}
	leaf.IPs = append(leaf.IPs, apiserver.FirstServiceIP(svcNet), cfg.AdvertiseAddress)
	for _, san := range cfg.TLSSANs {
		if ip := net.ParseIP(san); ip != nil {
			leaf.IPs = append(leaf.IPs, ip)
		} else {
			leaf.DNSNames = append(leaf.DNSNames, san)
		}
	}
	srvCert, srvKey, err := ca.LoadOrIssue(dir, "serving", leaf)
	if err != nil {
		return nil, err
	}
	adminCert, adminKey, err := ca.LoadOrIssue(dir, "admin", pki.Leaf{CommonName: "system:admin", Organization: []string{"system:masters"}})
	if err != nil {
		return nil, err
	}
	kcCert, kcKey, err := ca.LoadOrIssue(dir, "apiserver-kubelet-client", pki.Leaf{CommonName: "kube-apiserver-kubelet-client", Organization: []string{"system:masters"}})
	if err != nil {
		return nil, err
	}
	loopCert, loopKey, err := ca.LoadOrIssue(dir, "controller-manager", pki.Leaf{CommonName: "system:rudder-controller-manager", Organization: []string{"system:masters"}})
	if err != nil {
		return nil, err
	}
	pair, err := tls.LoadX509KeyPair(srvCert, srvKey)
	if err != nil {
		return nil, fmt.Errorf("load serving certificate: %w", err)
	}
	kpair, err := tls.LoadX509KeyPair(kcCert, kcKey)
	if err != nil {
		return nil, fmt.Errorf("load kubelet client certificate: %w", err)
	}
	roots, err := loadKubeletCA(cfg.KubeletCA)
	if err != nil {
		return nil, err
	}
	return &certSet{
		ca: ca, adminCert: adminCert, adminKey: adminKey, loopCert: loopCert, loopKey: loopKey,
		serving: &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: tls.VerifyClientCertIfGiven,
			ClientCAs: ca.Pool(), MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}},
		kubeletClient: kubeletClientTLS(kpair, roots),
	}, nil
}

// kubeletClientTLS is how the apiserver talks to kubelets: with its client
// certificate, verifying the kubelet's serving certificate only against
// an explicit CA bundle, as upstream does.
func kubeletClientTLS(pair tls.Certificate, roots *x509.CertPool) *tls.Config {
	c := &tls.Config{Certificates: []tls.Certificate{pair}, RootCAs: roots, MinVersion: tls.VersionTLS12}
	if roots == nil {
		c.InsecureSkipVerify = true //nolint:gosec // upstream default without --kubelet-certificate-authority
	}
	return c
}

func loadKubeletCA(path string) (*x509.CertPool, error) {
	if path == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--kubelet-certificate-authority: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--kubelet-certificate-authority %s: no certificates", path)
	}
	return pool, nil
}

func (c *certSet) kubeconfig(cfg Config) pki.Kubeconfig {
	return pki.Kubeconfig{Server: loopbackHost(cfg),
		CAPEM: c.ca.PEM, CertPath: c.adminCert, KeyPath: c.adminKey, Context: "rudder"}
}

// loopbackHost is where in-process clients reach the server.
func loopbackHost(cfg Config) string {
	host := "127.0.0.1"
	if cfg.BindAddress != "" && cfg.BindAddress != "0.0.0.0" && cfg.BindAddress != "::" {
		host = cfg.BindAddress
	}
	return "https://" + net.JoinHostPort(host, strconv.Itoa(cfg.SecurePort))
}

// loopbackConfig is the client configuration of the control loops.
func (c *certSet) loopbackConfig(cfg Config) *rest.Config {
	return &rest.Config{Host: loopbackHost(cfg), QPS: 200, Burst: 400,
		TLSClientConfig: rest.TLSClientConfig{CAData: c.ca.PEM, CertFile: c.loopCert, KeyFile: c.loopKey}}
}
