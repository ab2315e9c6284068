package autopath

import (
	"context"
	"net"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"
)

func pod(ns, name string, ips ...string) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": "x"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning},
	}
	for _, ip := range ips {
		p.Status.PodIPs = append(p.Status.PodIPs, corev1.PodIP{IP: ip})
	}
	return p
}

func TestTrimPod(t *testing.T) {
	p := pod("ns", "a", "10.0.0.1")
	p.Spec.HostNetwork = true
	got, err := trimPod(p)
	if err != nil {
		t.Fatal(err)
	}
	tp := got.(*corev1.Pod)
	if tp.Namespace != "ns" || tp.Name != "a" || len(tp.Status.PodIPs) != 1 || !tp.Spec.HostNetwork ||
		tp.Labels != nil || tp.Spec.Containers != nil || tp.Status.Phase != corev1.PodRunning {
		t.Errorf("trimmed pod %+v", tp)
	}
	tomb := cache.DeletedFinalStateUnknown{Key: "ns/a", Obj: tp}
	if got, _ := trimPod(tomb); got != any(tomb) {
		t.Error("tombstone changed")
	}
}

func TestPodIndexEvents(t *testing.T) {
	idx, err := NewPodIndex(fake.NewClientset(), nil)
	if err != nil {
		t.Fatal(err)
	}
	h := idx.handler()
	a := pod("ns-a", "a", "10.0.0.1", "fd00::1")
	h.OnAdd(a, false)
	checkNS(t, idx, "10.0.0.1", "ns-a")
	checkNS(t, idx, "fd00::1", "ns-a")
	checkNS(t, idx, "::ffff:10.0.0.1", "ns-a")
	a2 := pod("ns-a", "a", "10.0.0.2")
	h.OnUpdate(a, a2)
	checkNS(t, idx, "10.0.0.1", "")
	checkNS(t, idx, "10.0.0.2", "ns-a")
	// b takes over 10.0.0.2; a's later delete must not remove b's entry.
	h.OnAdd(pod("ns-b", "b", "10.0.0.2"), false)
	h.OnDelete(cache.DeletedFinalStateUnknown{Key: "ns-a/a", Obj: a2})
	checkNS(t, idx, "10.0.0.2", "ns-b")
	hn := pod("ns-h", "h", "192.168.0.1")
	hn.Spec.HostNetwork = true
	h.OnAdd(hn, false)
	checkNS(t, idx, "192.168.0.1", "")
	done := pod("ns-d", "d", "10.0.0.3")
	done.Status.Phase = corev1.PodSucceeded
	h.OnAdd(done, false)
	checkNS(t, idx, "10.0.0.3", "")
	if _, ok := idx.NamespaceOf(nil); ok {
		t.Error("nil IP found")
	}
}

func TestPodIndexInformer(t *testing.T) {
	client := fake.NewClientset(pod("default", "web", "10.244.1.5"))
	idx, err := NewPodIndex(client, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- idx.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	waitFor(t, idx.HasSynced)
	checkNS(t, idx, "10.244.1.5", "default")
	if _, err := client.CoreV1().Pods("other").Create(ctx, pod("other", "p", "10.244.2.7"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { ns, _ := idx.NamespaceOf(net.ParseIP("10.244.2.7")); return ns == "other" })
	if err := client.CoreV1().Pods("default").Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { _, ok := idx.NamespaceOf(net.ParseIP("10.244.1.5")); return !ok })
	if _, err := NewPodIndex(nil, nil); err == nil {
		t.Error("NewPodIndex without a client succeeded")
	}
}

func checkNS(t *testing.T, idx *PodIndex, ip, want string) {
	t.Helper()
	ns, ok := idx.NamespaceOf(net.ParseIP(ip))
	if ns != want || ok != (want != "") {
		t.Errorf("NamespaceOf(%s) = %q, %v; want %q", ip, ns, ok, want)
	}
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
