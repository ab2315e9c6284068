// Package apiservertest runs rudder's apiserver over bbolt in process for
// tests of its clients (controllers, the scheduler): real validation,
// defaulting, resourceVersions, generated names and watches, no binary.
package apiservertest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"rudder/controlplane/apiserver"
	"rudder/controlplane/apiserver/authn"
	"rudder/controlplane/apiserver/serviceaccount"
	"rudder/controlplane/storage/bolt"
)

const token = "apiservertest-token"

// Start runs an apiserver until the test ends and returns a client
// config for it (client-go's defaults: protobuf first). Options change the
// server's configuration before it is built.
func Start(t testing.TB, options ...func(*apiserver.Config)) *rest.Config {
	t.Helper()
	store, err := bolt.Open(bolt.Config{Path: filepath.Join(t.TempDir(), "state.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	_, svcNet, _ := net.ParseCIDR("10.96.0.0/12")
	cfg := apiserver.Config{
		Store:         store,
		Authenticator: &authn.Authenticator{Tokens: authn.Tokens{token: {Name: "tester", Groups: []string{"system:masters"}}}},
		ServiceCIDR:   svcNet, NodePortBase: 30000, NodePortSize: 2768,
		AdvertiseAddress: net.IPv4(127, 0, 0, 1), Port: 6443,
		Version:          version.Info{Major: "1", Minor: "33", GitVersion: "v1.33.0+rudder"},
		GarbageCollector: true, NamespaceController: true,
	}
	for _, o := range options {
		o(&cfg)
	}
	api, err := apiserver.New(cfg)
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

// Issuer is the service account token issuer WithServiceAccounts sets.
const Issuer = "https://kubernetes.default.svc.cluster.local"

// WithServiceAccounts is a Start option turning on service account
// tokens and pod admission, with a fresh signing key and a short wait for
// default service accounts.
func WithServiceAccounts(t testing.TB) func(*apiserver.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := serviceaccount.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	return func(c *apiserver.Config) {
		c.ServiceAccounts = &apiserver.ServiceAccountConfig{Signer: signer, Issuer: Issuer,
			LookupAttempts: 3, LookupInterval: 20 * time.Millisecond}
	}
}
