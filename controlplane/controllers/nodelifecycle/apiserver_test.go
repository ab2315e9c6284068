package nodelifecycle

import (
	"context"
	"log/slog"
	"net"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"

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
	// JSON: a protobuf DeleteOptions body is refused by the server today.
	client, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL, BearerToken: token, ContentConfig: rest.ContentConfig{ContentType: "application/json"}})
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// TestAgainstAPIServer runs a node through unreachable and back on the
// real apiserver: status and spec updates, pod status, eviction.
func TestAgainstAPIServer(t *testing.T) {
	client := realClient(t)
	ctx := context.Background()
	clk := clocktesting.NewFakeClock(time.Now())
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: LeaseNamespace}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	n, err := client.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
		LastHeartbeatTime: metav1.NewTime(clk.Now()), LastTransitionTime: metav1.NewTime(clk.Now())}}
	if _, err := client.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	holder, renew := "n1", metav1.NewMicroTime(clk.Now())
	if _, err := client.CoordinationV1().Leases(LeaseNamespace).Create(ctx, &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder, RenewTime: &renew},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	secs := int64(30)
	for _, p := range []*corev1.Pod{
		{ObjectMeta: metav1.ObjectMeta{Name: "plain", Namespace: "default"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "tolerant", Namespace: "default"}, Spec: corev1.PodSpec{Tolerations: []corev1.Toleration{
			{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: &secs}}}},
	} {
		p.Spec.NodeName = "n1"
		p.Spec.Containers = []corev1.Container{{Name: "c", Image: "busybox"}}
		out, err := client.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out.Status.Phase = corev1.PodRunning
		out.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
		if _, err := client.CoreV1().Pods("default").UpdateStatus(ctx, out, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	inf := informers.NewSharedInformerFactory(client, 0)
	c, err := New(Config{Client: client, Informers: inf, Clock: clk, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ictx, cancel := context.WithCancel(ctx)
	defer func() { cancel(); inf.Shutdown() }()
	inf.Start(ictx.Done())
	inf.WaitForCacheSync(ictx.Done())
	settle := func(cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatal("cache did not catch up")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	pass := func() {
		t.Helper()
		if err := c.Sync(ctx); err != nil {
			t.Fatalf("sync: %v", err)
		}
	}
	podState := func(name string) string {
		p, err := client.CoreV1().Pods("default").Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			return "gone"
		case err != nil:
			t.Fatal(err)
		case p.DeletionTimestamp != nil:
			return "terminating"
		case podReady(p):
			return "ready"
		}
		return "not-ready"
	}
	cachedNode := func() *corev1.Node { n, _ := c.nodes.Get("n1"); return n }

	pass()
	clk.Step(41 * time.Second)
	pass()
	settle(func() bool { return readyStatus(cachedNode()) == corev1.ConditionUnknown })
	pass()
	got := taintKeys(cachedNode())
	if !got["node.kubernetes.io/unreachable:NoExecute"] || !got["node.kubernetes.io/unreachable:NoSchedule"] {
		t.Fatalf("taints %v", got)
	}
	// The server's admission gave "plain" the default 300 s tolerations.
	for _, name := range []string{"plain", "tolerant"} {
		if s := podState(name); s != "not-ready" {
			t.Errorf("pod %s is %s, want not-ready", name, s)
		}
	}
	settle(func() bool {
		o, ok, _ := c.pods.GetByKey("default/tolerant")
		return ok && !podReady(o.(*corev1.Pod))
	})
	clk.Step(31 * time.Second)
	pass()
	if s := podState("tolerant"); s != "gone" && s != "terminating" {
		t.Errorf("tolerant pod after its 30 s toleration is %s", s)
	}
	if s := podState("plain"); s != "not-ready" {
		t.Errorf("plain pod after 72 s is %s, want not-ready", s)
	}
	clk.Step(270 * time.Second) // taint added at +41 s; +341 s is past 300 s
	pass()
	if s := podState("plain"); s != "gone" && s != "terminating" {
		t.Errorf("plain pod after the default 300 s is %s", s)
	}

	// The kubelet comes back.
	back, err := client.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	back.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
		LastHeartbeatTime: metav1.NewTime(clk.Now()), LastTransitionTime: metav1.NewTime(clk.Now())}}
	if _, err := client.CoreV1().Nodes().UpdateStatus(ctx, back, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	settle(func() bool { return readyStatus(cachedNode()) == corev1.ConditionTrue })
	pass()
	settle(func() bool { return len(cachedNode().Spec.Taints) == 0 })
}
