package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestServiceAccountKeyIsCreatedOnceAndReused(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{DataDir: dir}
	first, err := serviceAccounts(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if first.Issuer != DefaultServiceAccountIssuer {
		t.Errorf("issuer = %q", first.Issuer)
	}
	for _, f := range []string{"sa.key", "sa.pub"} {
		if _, err := os.Stat(filepath.Join(dir, "tls", f)); err != nil {
			t.Fatal(err)
		}
	}
	cfg.ServiceAccountIssuer = "https://issuer.example"
	second, err := serviceAccounts(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Signer.Public().Equal(second.Signer.Public()) || second.Issuer != "https://issuer.example" {
		t.Fatal("the key was not reused or the issuer not taken")
	}
}

func TestServiceAccountKeyRejectsBadFiles(t *testing.T) {
	cases := []struct{ name, content, want string }{
		{"not PEM", "hello", "no PEM block"},
		{"not a key", "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n", "service account key"},
	}
	for _, tc := range cases {
		dir := t.TempDir()
		_ = os.MkdirAll(filepath.Join(dir, "tls"), 0o700)
		_ = os.WriteFile(filepath.Join(dir, "tls", "sa.key"), []byte(tc.content), 0o600)
		if _, err := serviceAccounts(Config{DataDir: dir}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}
