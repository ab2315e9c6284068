package pki

import (
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
)

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCAIsCreatedOnceAndReused(t *testing.T) {
	dir := t.TempDir()
	ca1, err := LoadOrCreateCA(dir, "test-ca")
	if err != nil {
		t.Fatal(err)
	}
	ca2, err := LoadOrCreateCA(dir, "test-ca")
	if err != nil {
		t.Fatal(err)
	}
	if !ca1.Cert.Equal(ca2.Cert) {
		t.Fatal("second start made a new CA")
	}
	if !ca1.Cert.IsCA {
		t.Fatal("CA certificate is not a CA")
	}
}

func TestServingCertificateCoversSANsAndIsReissuedWhenTheyChange(t *testing.T) {
	dir := t.TempDir()
	ca, err := LoadOrCreateCA(dir, "test-ca")
	if err != nil {
		t.Fatal(err)
	}
	leaf := Leaf{CommonName: "kube-apiserver", Server: true, DNSNames: []string{"kubernetes.default.svc"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}}
	certPath, _, err := ca.LoadOrIssue(dir, "serving", leaf)
	if err != nil {
		t.Fatal(err)
	}
	first := readCert(t, certPath)
	if _, err := first.Verify(x509.VerifyOptions{Roots: ca.Pool(), DNSName: "kubernetes.default.svc"}); err != nil {
		t.Fatalf("serving cert does not verify for its SAN: %v", err)
	}
	if _, _, err := ca.LoadOrIssue(dir, "serving", leaf); err != nil {
		t.Fatal(err)
	}
	if again := readCert(t, certPath); !again.Equal(first) {
		t.Fatal("an unchanged serving certificate was reissued")
	}
	leaf.IPs = append(leaf.IPs, net.IPv4(198, 18, 0, 7))
	if _, _, err := ca.LoadOrIssue(dir, "serving", leaf); err != nil {
		t.Fatal(err)
	}
	if third := readCert(t, certPath); third.Equal(first) || third.VerifyHostname("198.18.0.7") != nil {
		t.Fatal("a new --tls-san did not reissue the serving certificate")
	}
}

func TestKubeconfigLoadsWithClientcmd(t *testing.T) {
	dir := t.TempDir()
	ca, err := LoadOrCreateCA(dir, "test-ca")
	if err != nil {
		t.Fatal(err)
	}
	cert, key, err := ca.LoadOrIssue(dir, "admin", Leaf{CommonName: "system:admin", Organization: []string{"system:masters"}})
	if err != nil {
		t.Fatal(err)
	}
	if c := readCert(t, cert); c.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth || c.Subject.Organization[0] != "system:masters" {
		t.Fatalf("admin certificate: %+v", c.Subject)
	}
	path := filepath.Join(dir, "kubeconfig")
	if err := (Kubeconfig{Server: "https://127.0.0.1:6443", CAPEM: ca.PEM, CertPath: cert, KeyPath: key}).Write(path); err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "https://127.0.0.1:6443" || len(cfg.TLSClientConfig.CAData) == 0 || len(cfg.TLSClientConfig.CertData) == 0 {
		t.Fatalf("kubeconfig loaded as %+v", cfg)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("kubeconfig mode %v, want 0600", st.Mode().Perm())
	}
}
