// Package apiservertest runs rudder's apiserver over bbolt in process for
// tests of its clients (controllers, the scheduler): real validation,
// defaulting, resourceVersions, generated names and watches, no binary.
package apiservertest

import (
	"context"
	"net"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"rudder/controlplane/apiserver"
	"rudder/controlplane/apiserver/authn"
	"rudder/controlplane/storage/bolt"
)

const token = "apiservertest-token"

// Start runs an apiserver until the test ends and returns a client
// config for it (client-go's defaults: protobuf first).
func Start(t testing.TB) *rest.Config {
	t.Helper()
	store, err := bolt.Open(bolt.Config{Path: filepath.Join(t.TempDir(), "state.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	_, svcNet, _ := net.ParseCIDR("10.96.0.0/12")
	api, err := apiserver.New(apiserver.Config{
		Store:         store,
		Authenticator: &authn.Authenticator{Tokens: authn.Tokens{token: {Name: "tester", Groups: []string{"system:masters"}}}},
		ServiceCIDR:   svcNet, NodePortBase: 30000, NodePortSize: 2768,
		AdvertiseAddress: net.IPv4(127, 0, 0, 1), Port: 6443,
		Version:          version.Info{Major: "1", Minor: "33", GitVersion: "v1.33.0+rudder"},
		GarbageCollector: true, NamespaceController: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := api.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	return &rest.Config{Host: srv.URL, BearerToken: token, QPS: 1000, Burst: 2000}
}

// Client is Start plus a clientset.
func Client(t testing.TB) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(Start(t))
	if err != nil {
		t.Fatal(err)
	}
	return cs
}
