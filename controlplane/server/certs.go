package server

import (
	"crypto/tls"
	"fmt"
	"net"
	"path/filepath"
	"strconv"

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
	pair, err := tls.LoadX509KeyPair(srvCert, srvKey)
	if err != nil {
		return nil, fmt.Errorf("load serving certificate: %w", err)
	}
	kpair, err := tls.LoadX509KeyPair(kcCert, kcKey)
	if err != nil {
		return nil, fmt.Errorf("load kubelet client certificate: %w", err)
	}
	return &certSet{
		ca: ca, adminCert: adminCert, adminKey: adminKey,
		serving: &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: tls.VerifyClientCertIfGiven,
			ClientCAs: ca.Pool(), MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}},
		kubeletClient: &tls.Config{Certificates: []tls.Certificate{kpair}, RootCAs: ca.Pool(), MinVersion: tls.VersionTLS12},
	}, nil
}

func (c *certSet) kubeconfig(cfg Config) pki.Kubeconfig {
	host := "127.0.0.1"
	if cfg.BindAddress != "" && cfg.BindAddress != "0.0.0.0" && cfg.BindAddress != "::" {
		host = cfg.BindAddress
	}
	return pki.Kubeconfig{Server: "https://" + net.JoinHostPort(host, strconv.Itoa(cfg.SecurePort)),
		CAPEM: c.ca.PEM, CertPath: c.adminCert, KeyPath: c.adminKey, Context: "rudder"}
}
