package serviceview

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"
)

func start(t *testing.T, cfg Config) *View {
	t.Helper()
	v, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- v.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	waitFor(t, v.HasSynced)
	return v
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func svc(ns, name string) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
}

func TestSnapshotSortedAfterSync(t *testing.T) {
	client := fake.NewClientset(
		svc("b", "x"), svc("a", "y"), svc("a", "x"),
		&discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "x-1"}},
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}},
	)
	v := start(t, Config{Client: client})
	select {
	case <-v.Changes():
	case <-time.After(5 * time.Second):
		t.Fatal("no change signal after sync")
	}
	s := v.Snapshot()
	var got []string
	for _, o := range s.Services {
		got = append(got, o.Namespace+"/"+o.Name)
	}
	if want := []string{"a/x", "a/y", "b/x"}; !equal(got, want) {
		t.Errorf("services = %v, want %v", got, want)
	}
	if len(s.EndpointSlices) != 1 || len(s.Nodes) != 1 {
		t.Errorf("got %d slices and %d nodes, want 1 and 1", len(s.EndpointSlices), len(s.Nodes))
	}
	if v.Node("n1") == nil || v.Node("n2") != nil {
		t.Error("Node lookup wrong")
	}
}

func TestChangesCoalesce(t *testing.T) {
	client := fake.NewClientset()
	v := start(t, Config{Client: client, NoNodes: true})
	drain(v)
	ctx := t.Context()
	for i := range 50 {
		s := svc("ns", "s"+string(rune('a'+i%26))+string(rune('a'+i/26)))
		if _, err := client.CoreV1().Services("ns").Create(ctx, s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, func() bool { return len(v.Snapshot().Services) == 50 })
	if n := len(v.Changes()); n != 1 {
		t.Errorf("%d signals pending after a burst, want exactly 1", n)
	}
	drain(v)
	if _, err := client.DiscoveryV1().EndpointSlices("ns").Create(ctx,
		&discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "e"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-v.Changes():
	case <-time.After(5 * time.Second):
		t.Fatal("no signal for an EndpointSlice")
	}
	if err := client.CoreV1().Services("ns").Delete(ctx, "saa", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-v.Changes():
	case <-time.After(5 * time.Second):
		t.Fatal("no signal for a delete")
	}
	if s := v.Snapshot(); len(s.Nodes) != 0 {
		t.Errorf("NoNodes view has %d nodes", len(s.Nodes))
	}
}

func TestResyncDoesNotSignal(t *testing.T) {
	v := &View{changes: make(chan struct{}, 1)}
	h := v.handler()
	a := svc("ns", "a")
	a.ResourceVersion = "5"
	h.OnUpdate(a, a)
	if len(v.changes) != 0 {
		t.Error("same-version update signalled")
	}
	b := a.DeepCopy()
	b.ResourceVersion = "6"
	h.OnUpdate(a, b)
	if len(v.changes) != 1 {
		t.Error("real update not signalled")
	}
}

func TestNewNeedsClient(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("New without a client succeeded")
	}
}

func drain(v *View) {
	for len(v.changes) > 0 {
		<-v.changes
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestTrimMeta(t *testing.T) {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "n",
		Annotations:   map[string]string{lastApplied: `{"big":"json"}`, "keep": "me"},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}}}
	out, err := trimMeta(svc)
	if err != nil {
		t.Fatal(err)
	}
	got := out.(*corev1.Service)
	if got.ManagedFields != nil || len(got.Annotations) != 1 || got.Annotations["keep"] != "me" {
		t.Errorf("trimmed meta: managedFields %v annotations %v", got.ManagedFields, got.Annotations)
	}
	if _, err := trimMeta(cache.DeletedFinalStateUnknown{Key: "n/a"}); err != nil {
		t.Errorf("tombstone: %v", err)
	}
}
