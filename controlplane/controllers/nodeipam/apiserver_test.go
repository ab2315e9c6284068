package nodeipam

import (
	"context"
	"log/slog"
	"net"
	"net/http/httptest"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"rudder/controlplane/apiserver"
	"rudder/controlplane/apiserver/authn"
	"rudder/controlplane/storage/bolt"
)

func realClient(t *testing.T) kubernetes.Interface {
	t.Helper()
	store, err := bolt.Open(bolt.Config{Path: filepath.Join(t.TempDir(), "state.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	_, svcNet, _ := net.ParseCIDR("10.96.0.0/12")
	const token = "test-token"
	api, err := apiserver.New(apiserver.Config{
		Store:         store,
		Authenticator: &authn.Authenticator{Tokens: authn.Tokens{token: {Name: "tester", Groups: []string{"system:masters"}}}},
		ServiceCIDR:   svcNet, NodePortBase: 30000, NodePortSize: 2768,
		AdvertiseAddress: net.IPv4(127, 0, 0, 1), Port: 6443,
		Version: version.Info{Major: "1", Minor: "33", GitVersion: "v1.33.0+rudder"},
		Logger:  slog.New(slog.DiscardHandler),
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
	client, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL, BearerToken: token})
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// TestAgainstAPIServer assigns through the real apiserver (strategic
// merge patch of a node's spec) and, after a restart of the controller,
// occupies what is already assigned.
func TestAgainstAPIServer(t *testing.T) {
	client := realClient(t)
	ctx := context.Background()
	_, ipnet, _ := net.ParseCIDR("10.244.0.0/16")
	run := func() context.CancelFunc {
		inf := informers.NewSharedInformerFactory(client, 0)
		c, err := New(Config{Client: client, Informers: inf, ClusterCIDR: ipnet, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		inf.Start(cctx.Done())
		go func() { defer close(done); _ = c.Run(cctx) }()
		return func() { cancel(); <-done; inf.Shutdown() }
	}
	create := func(name string) {
		if _, err := client.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	stop := run()
	create("a")
	create("b")
	ca, cb := waitCIDR(t, client, "a"), waitCIDR(t, client, "b")
	if ca == cb || ca == "" || cb == "" {
		t.Fatalf("a %s b %s", ca, cb)
	}
	stop()

	stop = run()
	defer stop()
	create("c")
	cc := waitCIDR(t, client, "c")
	if cc == ca || cc == cb {
		t.Errorf("c got %s, already held by a (%s) or b (%s)", cc, ca, cb)
	}
}
