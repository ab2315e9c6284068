package server

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rudder/controlplane/pki"
)

func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	other, err := pki.LoadOrCreateCA(filepath.Join(e.dir, "other-ca"), "other-ca")
	if err != nil {
		t.Fatal(err)
	}
	foreignCert, foreignKey, err := other.LoadOrIssue(e.dir, "foreign", pki.Leaf{CommonName: "intruder"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		cert, key string
		path      string
		want      int
	}{
		{"healthz needs no certificate", "", "", "/healthz", http.StatusOK},
		{"no certificate", "", "", "/containerLogs/default/web/app", http.StatusUnauthorized},
		{"certificate from another CA", foreignCert, foreignKey, "/containerLogs/default/web/app", http.StatusUnauthorized},
		{"no certificate for exec", "", "", "/exec/default/web/app?command=cat&stdout=true", http.StatusUnauthorized},
		{"no certificate for metrics", "", "", "/metrics", http.StatusUnauthorized},
		{"cluster CA certificate", e.certFile, e.keyFile, "/metrics", http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := e.do(t, e.client(t, tc.cert, tc.key), "GET", tc.path)
			if code != tc.want {
				t.Errorf("status %d (%s), want %d", code, strings.TrimSpace(body), tc.want)
			}
		})
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t)
	e.get(t, "/containerLogs/default/nope/app")
	code, body := e.get(t, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	want := `rudder_kubelet_server_requests_total{code="404",handler="containerLogs",method="get"} 1`
	if !strings.Contains(body, want) {
		t.Errorf("metrics lack %q:\n%s", want, body)
	}
}

func TestServingCertificate(t *testing.T) {
	e := newEnv(t)
	certPEM, err := os.ReadFile(e.caFile)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(certPEM)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if err := cert.VerifyHostname("node-a"); err != nil {
		t.Error(err)
	}
	if err := cert.VerifyHostname("127.0.0.1"); err != nil {
		t.Error(err)
	}
	if cert.PublicKeyAlgorithm != x509.ECDSA {
		t.Errorf("key algorithm %v, want ECDSA", cert.PublicKeyAlgorithm)
	}
	if info, err := os.Stat(filepath.Join(filepath.Dir(e.caFile), KeyFile)); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v, mode %v", err, info.Mode())
	}
	// A second load keeps the certificate.
	again, err := LoadOrCreateServingCert(filepath.Dir(e.caFile), "node-a", []net.IP{net.ParseIP("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Certificate[0], cert.Raw) {
		t.Error("serving certificate was regenerated")
	}
}

func TestNewValidates(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no provider":  {ClientCAs: x509.NewCertPool(), CertDir: t.TempDir()},
		"no CA":        {Provider: &fakeProvider{}, CertDir: t.TempDir()},
		"no cert dir":  {Provider: &fakeProvider{}, ClientCAs: x509.NewCertPool()},
		"no SAN names": {Provider: &fakeProvider{}, ClientCAs: x509.NewCertPool(), CertDir: t.TempDir()},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}
