package pki

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
)

// Kubeconfig describes an admin kubeconfig to write.
type Kubeconfig struct {
	Server   string // https://127.0.0.1:6443
	CAPEM    []byte
	CertPath string
	KeyPath  string
	Context  string // cluster, user and context name
}

// Write writes the kubeconfig with the certificates inlined, so that it
// stays valid when copied elsewhere.
func (k Kubeconfig) Write(path string) error {
	cert, err := os.ReadFile(k.CertPath)
	if err != nil {
		return fmt.Errorf("read client certificate: %w", err)
	}
	key, err := os.ReadFile(k.KeyPath)
	if err != nil {
		return fmt.Errorf("read client key: %w", err)
	}
	name := k.Context
	if name == "" {
		name = "rudder"
	}
	b64 := base64.StdEncoding.EncodeToString
	doc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: %[1]s
  cluster:
    server: %[2]s
    certificate-authority-data: %[3]s
users:
- name: %[1]s-admin
  user:
    client-certificate-data: %[4]s
    client-key-data: %[5]s
contexts:
- name: %[1]s
  context:
    cluster: %[1]s
    user: %[1]s-admin
current-context: %[1]s
`, name, k.Server, b64(k.CAPEM), b64(cert), b64(key))
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create kubeconfig dir: %w", err)
	}
	return WriteFileAtomic(path, []byte(doc), 0o600)
}
