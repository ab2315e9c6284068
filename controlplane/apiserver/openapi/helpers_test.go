package openapi

import (
	"testing"

	"rudder/controlplane/catalog"
)

// newTestSpec builds the documents of the whole catalog.
func newTestSpec(t testing.TB) *Spec {
	t.Helper()
	s, err := New(Config{Resources: catalog.Resources(), Scheme: catalog.NewScheme(), Version: "v1.33.0"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}
