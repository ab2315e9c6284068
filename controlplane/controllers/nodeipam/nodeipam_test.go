package nodeipam

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/record"
)

func node(name, cidr string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name)}}
	if cidr != "" {
		n.Spec.PodCIDR, n.Spec.PodCIDRs = cidr, []string{cidr}
	}
	return n
}

func start(t *testing.T, cidr string, objs ...runtime.Object) (*Controller, *fake.Clientset) {
	t.Helper()
	_, ipnet, err := net.ParseCIDR(cidr)
	if err != nil {
		t.Fatal(err)
	}
	client := fake.NewClientset(objs...)
	inf := informers.NewSharedInformerFactory(client, 0)
	c, err := New(Config{Client: client, Informers: inf, ClusterCIDR: ipnet, NodeMaskSize: 24, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	inf.Start(ctx.Done())
	go func() { defer close(done); _ = c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; inf.Shutdown() })
	return c, client
}

func waitCIDR(t *testing.T, client kubernetes.Interface, name string) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		n, err := client.CoreV1().Nodes().Get(context.Background(), name, metav1.GetOptions{})
		if err == nil && n.Spec.PodCIDR != "" {
			if len(n.Spec.PodCIDRs) != 1 || n.Spec.PodCIDRs[0] != n.Spec.PodCIDR {
				t.Fatalf("node %s: podCIDR %q but podCIDRs %v", name, n.Spec.PodCIDR, n.Spec.PodCIDRs)
			}
			return n.Spec.PodCIDR
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("node %s got no pod CIDR", name)
	return ""
}

func TestAssignsAfterOccupyingExisting(t *testing.T) {
	// a holds the first range; b must not be given it, even though b is
	// listed first and the first range is the lowest free one otherwise.
	_, client := start(t, "10.244.0.0/16", node("b-new", ""), node("a-old", "10.244.0.0/24"), node("c-old", "10.244.1.0/24"))
	if got := waitCIDR(t, client, "b-new"); got != "10.244.2.0/24" {
		t.Errorf("b-new got %s, want 10.244.2.0/24", got)
	}
	n, _ := client.CoreV1().Nodes().Create(context.Background(), node("d-new", ""), metav1.CreateOptions{})
	if got := waitCIDR(t, client, n.Name); got != "10.244.3.0/24" {
		t.Errorf("d-new got %s, want 10.244.3.0/24", got)
	}
}

func TestReleaseOnDelete(t *testing.T) {
	c, client := start(t, "10.244.0.0/23", node("a", ""), node("b", ""))
	ca, cb := waitCIDR(t, client, "a"), waitCIDR(t, client, "b")
	if ca == cb {
		t.Fatalf("a and b share %s", ca)
	}
	ctx := context.Background()
	if err := client.CoreV1().Nodes().Delete(ctx, "a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for c.Allocator().Used() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("a's range was not released: used %d", c.Allocator().Used())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := client.CoreV1().Nodes().Create(ctx, node("c", ""), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := waitCIDR(t, client, "c"); got != ca {
		t.Errorf("c got %s, want a's released %s", got, ca)
	}
}

func TestFullRangeRecordsEvent(t *testing.T) {
	_, client := start(t, "10.244.0.0/24", node("a", ""), node("b", ""))
	deadline := time.Now().Add(5 * time.Second)
	for {
		evs, _ := client.CoreV1().Events("").List(context.Background(), metav1.ListOptions{})
		if len(evs.Items) > 0 {
			ev := evs.Items[0]
			if ev.Reason != "CIDRNotAvailable" || ev.InvolvedObject.Kind != "Node" {
				t.Fatalf("event %+v", ev)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no CIDRNotAvailable event")
		}
		time.Sleep(10 * time.Millisecond)
	}
	a, _ := client.CoreV1().Nodes().Get(context.Background(), "a", metav1.GetOptions{})
	b, _ := client.CoreV1().Nodes().Get(context.Background(), "b", metav1.GetOptions{})
	if (a.Spec.PodCIDR == "") == (b.Spec.PodCIDR == "") {
		t.Errorf("want exactly one node with the only range: a %q b %q", a.Spec.PodCIDR, b.Spec.PodCIDR)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	client := fake.NewClientset()
	inf := informers.NewSharedInformerFactory(client, 0)
	_, ipnet, _ := net.ParseCIDR("10.244.0.0/16")
	for name, cfg := range map[string]Config{
		"no cidr":      {Client: client, Informers: inf},
		"mask too big": {Client: client, Informers: inf, ClusterCIDR: ipnet, NodeMaskSize: 8},
		"no client":    {Informers: inf, ClusterCIDR: ipnet},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

func TestFullRangeThroughRecorder(t *testing.T) {
	_, ipnet, _ := net.ParseCIDR("10.244.0.0/24")
	client := fake.NewClientset(node("a", "10.244.0.0/24"), node("b", ""))
	inf := informers.NewSharedInformerFactory(client, 0)
	rec := record.NewFakeRecorder(10)
	c, err := New(Config{Client: client, Informers: inf, ClusterCIDR: ipnet, Recorder: rec, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	inf.Start(ctx.Done())
	go func() { defer close(done); _ = c.Run(ctx) }()
	defer func() { cancel(); <-done; inf.Shutdown() }()
	select {
	case ev := <-rec.Events:
		if ev != "Normal CIDRNotAvailable Node b status is now: CIDRNotAvailable" {
			t.Errorf("event %q", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event recorded")
	}
}
