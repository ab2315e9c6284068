package endpointslice

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"rudder/controlplane/apiserver/apiservertest"
)

// realClient starts rudder's apiserver over bbolt in process and returns a
// client for it.
func realClient(t *testing.T) kubernetes.Interface {
	t.Helper()
	return apiservertest.Client(t)
}

// TestAgainstAPIServer follows readiness and termination through the real
// apiserver: generated names, resourceVersions and graceful pod deletion.
func TestAgainstAPIServer(t *testing.T) {
	client := realClient(t) // client-go's default content type (protobuf)
	h := startWith(t, client, 2)
	h.createSvc(service("web", app, tcpPort("http", 80, intstr.FromString("http"))))

	var pods []*corev1.Pod
	for i := range 5 {
		p := pod(fmt.Sprintf("p%d", i), "", false, app)
		p.UID = ""
		p.Spec.Containers[0].Image = "busybox"
		p.Status = corev1.PodStatus{}
		out, err := client.CoreV1().Pods(ns).Create(h.ctx, p, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		pods = append(pods, out)
	}
	want := map[string]epState{}
	for i, p := range pods {
		ip := fmt.Sprintf("10.244.0.%d", i+10)
		p.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}},
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}
		out, err := client.CoreV1().Pods(ns).UpdateStatus(h.ctx, p, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		pods[i] = out
		want[ip] = epState{ready: true, serving: true, node: "node-1"}
	}
	h.waitEndpoints("web", want)
	h.eventually("3 slices of at most 2", func() (bool, string) {
		s := h.slices("web")
		for _, sl := range s {
			if len(sl.Endpoints) > 2 || sl.Name == "" {
				return false, fmt.Sprint(sl.Name, len(sl.Endpoints))
			}
		}
		return len(s) == 3, fmt.Sprint(len(s))
	})

	// Graceful deletion of a pod on a node: terminating, still serving.
	if err := client.CoreV1().Pods(ns).Delete(h.ctx, "p0", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	p0, err := client.CoreV1().Pods(ns).Get(h.ctx, "p0", metav1.GetOptions{})
	if err == nil && p0.DeletionTimestamp != nil {
		t.Log("graceful deletion: checking the terminating endpoint")
		want["10.244.0.10"] = epState{serving: true, terminating: true, node: "node-1"}
		h.waitEndpoints("web", want)
		zero := int64(0)
		if err := client.CoreV1().Pods(ns).Delete(h.ctx, "p0", metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
			t.Fatal(err)
		}
	}
	delete(want, "10.244.0.10")
	h.waitEndpoints("web", want)

	h.eventually("endpoints", func() (bool, string) {
		ep, err := client.CoreV1().Endpoints(ns).Get(h.ctx, "web", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return len(ep.Subsets) == 1 && len(ep.Subsets[0].Addresses) == 4, fmt.Sprint(ep.Subsets)
	})

	// Deleting the service: the controller deletes its slices and Endpoints.
	if err := client.CoreV1().Services(ns).Delete(h.ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	h.eventually("slices and endpoints gone", func() (bool, string) {
		_, err := client.CoreV1().Endpoints(ns).Get(h.ctx, "web", metav1.GetOptions{})
		return len(h.slices("web")) == 0 && err != nil, fmt.Sprint(len(h.slices("web")), err)
	})
}
