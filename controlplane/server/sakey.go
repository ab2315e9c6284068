package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"rudder/controlplane/apiserver"
	"rudder/controlplane/apiserver/serviceaccount"
	"rudder/controlplane/pki"
)

// DefaultServiceAccountIssuer is the iss of service account tokens unless
// --service-account-issuer says otherwise.
const DefaultServiceAccountIssuer = "https://kubernetes.default.svc.cluster.local"

// serviceAccounts creates (first start) or loads the service account
// signing key, tls/sa.key (public half in sa.pub, as kubeadm lays them
// out), and returns the apiserver's service account configuration.
func serviceAccounts(cfg Config) (*apiserver.ServiceAccountConfig, error) {
	issuer := cfg.ServiceAccountIssuer
	if issuer == "" {
		issuer = DefaultServiceAccountIssuer
	}
	key, err := loadOrCreateSAKey(filepath.Join(cfg.DataDir, "tls"))
	if err != nil {
		return nil, err
	}
	signer, err := serviceaccount.NewSigner(key)
	if err != nil {
		return nil, err
	}
	return &apiserver.ServiceAccountConfig{Signer: signer, Issuer: issuer}, nil
}

func loadOrCreateSAKey(dir string) (*ecdsa.PrivateKey, error) {
	keyPath := filepath.Join(dir, "sa.key")
	b, err := os.ReadFile(keyPath)
	if err == nil {
		return parseSAKey(keyPath, b)
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read service account key: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate service account key: %w", err)
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("marshal service account key: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("marshal service account public key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	if err := pki.WriteFileAtomic(filepath.Join(dir, "sa.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o644); err != nil {
		return nil, err
	}
	if err := pki.WriteFileAtomic(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	return key, nil
}

// parseSAKey reads a PEM EC private key (SEC 1 or PKCS #8).
func parseSAKey(path string, b []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("service account key %s: no PEM block", path)
	}
	if k, err := x509.ParseECPrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("service account key %s: %w", path, err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("service account key %s: want an ECDSA P-256 key, got %T", path, k)
	}
	return ec, nil
}
