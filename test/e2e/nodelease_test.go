package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
)

// renewLease plays the kubelet's heartbeat until ctx ends.
func renewLease(ctx context.Context, cs kubernetes.Interface, node string) {
	secs := int32(40)
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: node, Namespace: "kube-node-lease"},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: &node, LeaseDurationSeconds: &secs}}
	for ctx.Err() == nil {
		now := metav1.NewMicroTime(time.Now())
		lease.Spec.RenewTime = &now
		if cur, err := cs.CoordinationV1().Leases("kube-node-lease").Get(ctx, node, metav1.GetOptions{}); err == nil {
			cur.Spec.RenewTime = &now
			_, _ = cs.CoordinationV1().Leases("kube-node-lease").Update(ctx, cur, metav1.UpdateOptions{})
		} else {
			_, _ = cs.CoordinationV1().Leases("kube-node-lease").Create(ctx, lease, metav1.CreateOptions{})
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestNodeLeaseExpiry: a node that stops renewing its Lease goes Unknown,
// its pods drop out of the Service's endpoints and are evicted once their
// toleration of the unreachable taint runs out.
func TestNodeLeaseExpiry(t *testing.T) {
	s := startServer(t, "--node-monitor-grace-period=2s")
	cs, err := s.clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	simulatedNode(t, cs, "sim-1")
	heartbeat, stopHeartbeat := context.WithCancel(ctx)
	go renewLease(heartbeat, cs, "sim-1")
	go runPods(ctx, cs, "default")
	secs := int64(3)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default", Labels: map[string]string{"app": "p"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "rudder"}},
			Tolerations: []corev1.Toleration{{Key: "node.kubernetes.io/unreachable", Operator: corev1.TolerationOpExists,
				Effect: corev1.TaintEffectNoExecute, TolerationSeconds: &secs}}}}
	if _, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "p"}, Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}}}
	if _, err := cs.CoreV1().Services("default").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	readyEndpoints := func() (int, error) {
		sl, err := cs.DiscoveryV1().EndpointSlices("default").List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=p"})
		if err != nil {
			return 0, err
		}
		n := 0
		for _, s := range sl.Items {
			for _, ep := range s.Endpoints {
				if ep.Conditions.Ready != nil && *ep.Conditions.Ready {
					n++
				}
			}
		}
		return n, nil
	}
	eventually(t, "the pod is a ready endpoint while the node heartbeats", 20*time.Second, func() error {
		if n, err := readyEndpoints(); err != nil || n != 1 {
			return fmt.Errorf("%d ready endpoints (%v)", n, err)
		}
		return nil
	})
	time.Sleep(3 * time.Second)
	if n, _ := readyEndpoints(); n != 1 {
		t.Fatalf("the node went unknown while it was still renewing its Lease")
	}
	stopHeartbeat()
	eventually(t, "the silent node goes Unknown and its pod leaves the endpoints", 20*time.Second, func() error {
		node, err := cs.CoreV1().Nodes().Get(ctx, "sim-1", metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, c := range node.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status != corev1.ConditionUnknown {
				return fmt.Errorf("node Ready=%s", c.Status)
			}
		}
		if n, err := readyEndpoints(); err != nil || n != 0 {
			return fmt.Errorf("%d ready endpoints (%v)", n, err)
		}
		return nil
	})
	eventually(t, "the pod is evicted after its 3 s toleration", 20*time.Second, func() error {
		p, err := cs.CoreV1().Pods("default").Get(ctx, "p", metav1.GetOptions{})
		if err == nil && p.DeletionTimestamp == nil {
			return fmt.Errorf("pod still running")
		}
		return nil
	})
}
