package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
)

// simulatedNode registers a Ready node with room for pods, as a kubelet
// would.
func simulatedNode(t *testing.T, cs kubernetes.Interface, name string) {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}},
		Status: corev1.NodeStatus{
			Capacity:    corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi"), corev1.ResourcePods: resource.MustParse("110")},
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi"), corev1.ResourcePods: resource.MustParse("110")},
			Conditions:  []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastHeartbeatTime: metav1.Now()}},
		}}
	if _, err := cs.CoreV1().Nodes().Create(context.Background(), n, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// runPods plays the kubelet: every pod bound to a node is set Running
// and Ready, and a pod being deleted is confirmed gone.
func runPods(ctx context.Context, cs kubernetes.Interface, ns string) {
	next := 10 // pod IPs are unique, as a node's IPAM would give them
	for ctx.Err() == nil {
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err == nil {
			for i := range pods.Items {
				p := &pods.Items[i]
				if p.DeletionTimestamp != nil && p.Spec.NodeName != "" {
					// The kubelet stopped the containers: confirm the deletion.
					zero := int64(0)
					_ = cs.CoreV1().Pods(ns).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
					continue
				}
				if p.Spec.NodeName == "" || p.Status.Phase == corev1.PodRunning {
					continue
				}
				now := metav1.Now()
				if _, isJob := p.Labels["job-name"]; isJob {
					// A job's container runs to completion (or fails, if
					// its labels say so).
					p.Status.Phase = corev1.PodSucceeded
					if p.Labels["outcome"] == "fail" {
						p.Status.Phase = corev1.PodFailed
					}
					_, _ = cs.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{})
					continue
				}
				p.Status.Phase = corev1.PodRunning
				p.Status.PodIP = fmt.Sprintf("10.244.1.%d", next)
				next++
				p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now})
				_, _ = cs.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{})
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestControlLoops: rudder server's scheduler and workload controllers
// turn a Deployment into bound pods on a simulated node, and kubectl
// rollout status sees it complete; an image change rolls out.
func TestControlLoops(t *testing.T) {
	s := startServer(t)
	cs, err := s.clientset()
	if err != nil {
		t.Fatal(err)
	}
	simulatedNode(t, cs, "sim-1")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go runPods(ctx, cs, "default")
	k := newKubectl(t, s, "1.33")
	k.ok("create", "deployment", "web", "--image=nginx:1.27", "--replicas=3")
	k.ok("patch", "deployment", "web", "-p", `{"spec":{"strategy":{"rollingUpdate":{"maxUnavailable":0,"maxSurge":1}}}}`)
	contains(t, "rollout status", k.ok("rollout", "status", "deployment/web", "--timeout=60s"), `deployment "web" successfully rolled out`)
	pods, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil || len(pods.Items) != 3 {
		t.Fatalf("want 3 pods, got %d (%v)", len(pods.Items), err)
	}
	for _, p := range pods.Items {
		if p.Spec.NodeName != "sim-1" {
			t.Fatalf("pod %s not scheduled: %q", p.Name, p.Spec.NodeName)
		}
	}
	contains(t, "get deploy", k.ok("get", "deploy", "web"), "3/3")
	minReady := make(chan int, 1)
	watchCtx, stopWatch := context.WithCancel(ctx)
	go func() { minReady <- watchMinReady(watchCtx, cs, "app=web") }()
	k.ok("set", "image", "deployment/web", "nginx=nginx:1.28")
	contains(t, "rollout of a new image", k.ok("rollout", "status", "deployment/web", "--timeout=60s"), "successfully rolled out")
	stopWatch()
	if m := <-minReady; m < 3 {
		t.Fatalf("with maxUnavailable=0 the rollout dropped to %d ready pods, want never below 3", m)
	}
	d, err := cs.AppsV1().Deployments("default").Get(ctx, "web", metav1.GetOptions{})
	if err != nil || d.Status.UpdatedReplicas != 3 || d.Annotations["deployment.kubernetes.io/revision"] != "2" {
		t.Fatalf("after the rollout: %+v %v", d.Status, err)
	}
	rss, _ := cs.AppsV1().ReplicaSets("default").List(ctx, metav1.ListOptions{})
	if len(rss.Items) != 2 {
		t.Fatalf("want the old and the new ReplicaSet, got %d", len(rss.Items))
	}
	k.ok("expose", "deployment", "web", "--port=80", "--target-port=8080")
	eventually(t, "the Service's EndpointSlice lists the 3 ready pods", 20*time.Second, func() error {
		slices, err := cs.DiscoveryV1().EndpointSlices("default").List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=web"})
		if err != nil {
			return err
		}
		ready := 0
		for _, sl := range slices.Items {
			for _, ep := range sl.Endpoints {
				if ep.Conditions.Ready != nil && *ep.Conditions.Ready {
					ready++
				}
			}
		}
		if ready != 3 {
			return fmt.Errorf("%d ready endpoints in %d slices", ready, len(slices.Items))
		}
		return nil
	})
	k.ok("rollout", "undo", "deployment/web")
	contains(t, "rollback", k.ok("rollout", "status", "deployment/web", "--timeout=60s"), "successfully rolled out")
	contains(t, "rolled back image", k.ok("get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}"), "nginx:1.27")
	if rss, _ := cs.AppsV1().ReplicaSets("default").List(ctx, metav1.ListOptions{}); len(rss.Items) != 2 {
		t.Fatalf("rollback made a third ReplicaSet instead of reusing the old one: %d", len(rss.Items))
	}
	pods, _ = cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	contains(t, "describe pod shows its events", k.ok("describe", "pod", pods.Items[0].Name), "Events:", "Scheduled", "Successfully assigned default/"+pods.Items[0].Name+" to sim-1")
	node, err := cs.CoreV1().Nodes().Get(ctx, "sim-1", metav1.GetOptions{})
	if err != nil || node.Spec.PodCIDR == "" {
		t.Fatalf("node IPAM gave sim-1 no pod range: %q %v", node.Spec.PodCIDR, err)
	}
	// Deleting the Deployment removes its ReplicaSets and pods (garbage
	// collector, background propagation).
	k.ok("delete", "deployment", "web")
	eventually(t, "ReplicaSets and pods of a deleted Deployment are collected", 30*time.Second, func() error {
		rss, _ := cs.AppsV1().ReplicaSets("default").List(ctx, metav1.ListOptions{})
		pods, _ := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
		if n := len(rss.Items) + len(pods.Items); n > 0 {
			return fmt.Errorf("%d ReplicaSets and %d pods left", len(rss.Items), len(pods.Items))
		}
		return nil
	})
	testDaemonAndStatefulSets(t, k, cs)
	k.ok("create", "job", "hello", "--image=busybox", "--", "echo", "hi")
	k.ok("wait", "--for=condition=complete", "job/hello", "--timeout=30s")
	contains(t, "get job", k.ok("get", "job", "hello"), "Complete", "1/1")
	k.ok("apply", "-f", k.file("failing.yaml", failingJob))
	k.ok("wait", "--for=condition=failed", "job/flaky", "--timeout=60s")
	j, err := cs.BatchV1().Jobs("default").Get(ctx, "flaky", metav1.GetOptions{})
	if err != nil || j.Status.Failed != 3 {
		t.Fatalf("a job with backoffLimit 2 should fail after 3 pods, status %+v (%v)", j.Status, err)
	}
	var _ appsv1.Deployment
}

const workloads = `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: a, image: rudder}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: d, image: rudder}]}
`

// testDaemonAndStatefulSets: a DaemonSet covers a node added later and
// skips one with a taint it does not tolerate; a StatefulSet comes up as
// db-0 then db-1 with stable names.
func testDaemonAndStatefulSets(t *testing.T, k *kubectl, cs kubernetes.Interface) {
	ctx := context.Background()
	w, err := cs.CoreV1().Pods("default").Watch(ctx, metav1.ListOptions{LabelSelector: "app=db"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	order := make(chan error, 1)
	go func() { order <- checkOrderedReady(w.ResultChan()) }()
	k.ok("apply", "-f", k.file("workloads.yaml", workloads))
	simulatedNode(t, cs, "sim-2")
	tainted := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "sim-3"}, Spec: corev1.NodeSpec{
		Taints: []corev1.Taint{{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}}}}
	if _, err := cs.CoreV1().Nodes().Create(ctx, tainted, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	contains(t, "daemonset rollout", k.ok("rollout", "status", "daemonset/agent", "--timeout=60s"), "successfully rolled out")
	eventually(t, "one agent pod per untainted node", 20*time.Second, func() error {
		pods, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=agent"})
		if err != nil {
			return err
		}
		nodes := map[string]bool{}
		for _, p := range pods.Items {
			nodes[p.Spec.NodeName] = true
		}
		if len(pods.Items) != 2 || !nodes["sim-1"] || !nodes["sim-2"] {
			return fmt.Errorf("agent pods on %v (%d pods), want sim-1 and sim-2", nodes, len(pods.Items))
		}
		return nil
	})
	contains(t, "statefulset rollout", k.ok("rollout", "status", "statefulset/db", "--timeout=60s"), "roll out complete")
	if err := <-order; err != nil {
		t.Fatalf("OrderedReady: %v", err)
	}
	for _, name := range []string{"db-0", "db-1"} {
		p, err := cs.CoreV1().Pods("default").Get(ctx, name, metav1.GetOptions{})
		if err != nil || p.Spec.Hostname != name || p.Spec.Subdomain != "db" {
			t.Fatalf("stateful pod %s: %v %+v", name, err, p)
		}
	}
}

// watchMinReady polls the ready, non-terminating pods matching selector
// until ctx ends and returns the lowest count seen.
func watchMinReady(ctx context.Context, cs kubernetes.Interface, selector string) int {
	lowest := 1 << 30
	for ctx.Err() == nil {
		pods, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err == nil {
			n := 0
			for _, p := range pods.Items {
				if p.DeletionTimestamp != nil {
					continue
				}
				for _, c := range p.Status.Conditions {
					if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
						n++
					}
				}
			}
			lowest = min(lowest, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return lowest
}

const failingJob = `apiVersion: batch/v1
kind: Job
metadata: {name: flaky}
spec:
  backoffLimit: 2
  template:
    metadata: {labels: {outcome: fail}}
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox, command: ["false"]}]
`

// checkOrderedReady reads pod events until db-1 appears and checks db-0
// was Ready before it was created.
func checkOrderedReady(events <-chan watch.Event) error {
	db0Ready := false
	for ev := range events {
		p, ok := ev.Object.(*corev1.Pod)
		if !ok {
			continue
		}
		switch p.Name {
		case "db-0":
			for _, c := range p.Status.Conditions {
				if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
					db0Ready = true
				}
			}
		case "db-1":
			if !db0Ready {
				return fmt.Errorf("db-1 was created before db-0 was ready")
			}
			return nil
		}
	}
	return fmt.Errorf("watch ended before db-1 appeared")
}
