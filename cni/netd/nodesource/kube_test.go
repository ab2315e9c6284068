package nodesource

import (
	"context"
	"net/netip"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"rudder/cni/netd/netstate"
)

func startKube(t *testing.T) (*Kube, *fake.Clientset) {
	t.Helper()
	client := fake.NewClientset(
		kubeNode("n1", "10.244.1.0/24", "198.18.0.11", nil),
		kubeNode("n2", "10.244.2.0/24", "198.18.0.12", nil))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	k := NewKube(KubeConfig{Client: client})
	if err := k.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return k, client
}

func waitChange(t *testing.T, k *Kube) {
	t.Helper()
	select {
	case <-k.Changes():
	case <-time.After(5 * time.Second):
		t.Fatal("no change notification")
	}
}

func drain(k *Kube) {
	select {
	case <-k.Changes():
	default:
	}
}

func TestKubeNodesAndChanges(t *testing.T) {
	k, client := startKube(t)
	nodes, err := k.Nodes()
	if err != nil || len(nodes) != 2 {
		t.Fatalf("Nodes = %v, %v", nodes, err)
	}
	drain(k)
	ctx := context.Background()
	n2, _ := client.CoreV1().Nodes().Get(ctx, "n2", metav1.GetOptions{})
	n2.Spec.PodCIDR = "10.244.9.0/24"
	if _, err := client.CoreV1().Nodes().Update(ctx, n2, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitChange(t, k)
	if err := client.CoreV1().Nodes().Delete(ctx, "n1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitChange(t, k)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if nodes, _ := k.Nodes(); len(nodes) == 1 && nodes[0].PodCIDR.String() == "10.244.9.0/24" {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("cache does not show the update and the deletion")
}

func TestKubePublish(t *testing.T) {
	k, client := startKube(t)
	ctx := context.Background()
	mac, _ := netstate.ParseMAC("0e:72:c6:12:00:0b")
	pub := Published{PublicIP: netip.MustParseAddr("198.18.0.11"), VTEPMAC: mac}
	if err := k.Publish(ctx, "n1", pub); err != nil {
		t.Fatal(err)
	}
	n1, _ := client.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	if n1.Annotations[AnnotationVTEPMAC] != "0e:72:c6:12:00:0b" || n1.Annotations[AnnotationPublicIP] != "198.18.0.11" {
		t.Fatalf("annotations = %v", n1.Annotations)
	}
	waitFor(t, func() bool { n, _ := k.lister.Get("n1"); return n.Annotations[AnnotationVTEPMAC] != "" })
	patches := countPatches(client)
	if err := k.Publish(ctx, "n1", pub); err != nil {
		t.Fatal(err)
	}
	if got := countPatches(client); got != patches {
		t.Errorf("unchanged annotations patched again (%d patches, want %d)", got, patches)
	}
	if err := k.Publish(ctx, "n1", Published{PublicIP: pub.PublicIP}); err != nil {
		t.Fatal(err)
	}
	n1, _ = client.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	if _, ok := n1.Annotations[AnnotationVTEPMAC]; ok {
		t.Errorf("host-gw publish kept the VTEP MAC: %v", n1.Annotations)
	}
	if err := k.Publish(ctx, "nope", pub); err == nil {
		t.Error("publish on a missing node succeeded")
	}
}

func countPatches(c *fake.Clientset) int {
	n := 0
	for _, a := range c.Actions() {
		if a.GetVerb() == "patch" {
			n++
		}
	}
	return n
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatal("condition not met within 5s")
}
