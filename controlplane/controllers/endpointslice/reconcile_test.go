package endpointslice

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// pods returns n ready pods with IPs 10.0.x.y starting at from.
func readyPods(from, n int) []*corev1.Pod {
	var out []*corev1.Pod
	for i := from; i < from+n; i++ {
		out = append(out, pod(fmt.Sprintf("p%04d", i), fmt.Sprintf("10.0.%d.%d", i/250, i%250+1), true, app))
	}
	return out
}

// applyPlan returns the slices after the plan, naming created ones.
func applyPlan(existing []*discovery.EndpointSlice, p plan) []*discovery.EndpointSlice {
	byName := map[string]*discovery.EndpointSlice{}
	for _, s := range existing {
		byName[s.Name] = s
	}
	for _, s := range p.delete {
		delete(byName, s.Name)
	}
	for _, s := range p.update {
		byName[s.Name] = s
	}
	for i, s := range p.create {
		s = s.DeepCopy()
		s.Name = fmt.Sprintf("%snew%d-%d", s.GenerateName, len(byName), i)
		byName[s.Name] = s
	}
	var out []*discovery.EndpointSlice
	for _, s := range byName {
		out = append(out, s)
	}
	return out
}

func count(slices []*discovery.EndpointSlice) (total int, sizes []int) {
	for _, s := range slices {
		total += len(s.Endpoints)
		sizes = append(sizes, len(s.Endpoints))
	}
	return
}

func TestReconcilePacking(t *testing.T) {
	svc := service("web", app, tcpPort("http", 80, intstr.FromInt32(8080)))
	svc.UID = types.UID("svc-web")

	// 0 pods: one placeholder, then stable.
	p := reconcile(svc, nil, desiredGroups(svc, nil), 100)
	if len(p.create) != 1 || len(p.create[0].Endpoints) != 0 {
		t.Fatalf("placeholder: %+v", p)
	}
	cur := applyPlan(nil, p)
	if p := reconcile(svc, cur, desiredGroups(svc, nil), 100); !p.empty() {
		t.Fatalf("placeholder not stable: %+v", p)
	}

	// 250 pods: the placeholder is reused, three slices in all.
	pods := readyPods(0, 250)
	p = reconcile(svc, cur, desiredGroups(svc, pods), 100)
	if len(p.create) != 2 || len(p.update) != 1 || len(p.delete) != 0 {
		t.Fatalf("250 pods: create %d update %d delete %d", len(p.create), len(p.update), len(p.delete))
	}
	cur = applyPlan(cur, p)
	if n, sizes := count(cur); n != 250 || len(cur) != 3 {
		t.Fatalf("250 pods: %d endpoints in %v", n, sizes)
	}
	if p := reconcile(svc, cur, desiredGroups(svc, pods), 100); !p.empty() {
		t.Fatalf("not stable: %+v", p)
	}

	// 5 more pods go into one slice with room, without a new slice.
	pods = append(pods, readyPods(250, 5)...)
	p = reconcile(svc, cur, desiredGroups(svc, pods), 100)
	if len(p.create) != 0 || len(p.update) != 1 || len(p.delete) != 0 {
		t.Fatalf("+5 pods: create %d update %d delete %d", len(p.create), len(p.update), len(p.delete))
	}
	cur = applyPlan(cur, p)

	// Removing one pod touches one slice; removing a slice's worth of pods
	// deletes nothing else.
	p = reconcile(svc, cur, desiredGroups(svc, pods[1:]), 100)
	if len(p.create)+len(p.delete) != 0 || len(p.update) != 1 {
		t.Fatalf("-1 pod: %+v", p)
	}

	// Pods gone: one slice stays as the placeholder, the rest are deleted.
	p = reconcile(svc, cur, desiredGroups(svc, nil), 100)
	cur = applyPlan(cur, p)
	if len(cur) != 1 || len(cur[0].Endpoints) != 0 || len(p.create) != 0 {
		t.Fatalf("placeholder after removal: %d slices, plan %+v", len(cur), p)
	}
}

func TestReconcileRepairs(t *testing.T) {
	svc := service("web", app, tcpPort("http", 80, intstr.FromInt32(8080)))
	pods := readyPods(0, 3)
	cur := applyPlan(nil, reconcile(svc, nil, desiredGroups(svc, pods), 100))
	if len(cur) != 1 {
		t.Fatalf("%d slices", len(cur))
	}

	// A duplicate endpoint in a second slice, and a slice owned by another
	// service UID, are cleaned up.
	dup := cur[0].DeepCopy()
	dup.Name = "web-dup"
	dup.Endpoints = dup.Endpoints[:1]
	stale := cur[0].DeepCopy()
	stale.Name = "web-old"
	stale.OwnerReferences[0].UID = "someone-else"
	p := reconcile(svc, []*discovery.EndpointSlice{cur[0], dup, stale}, desiredGroups(svc, pods), 100)
	after := applyPlan([]*discovery.EndpointSlice{cur[0], dup, stale}, p)
	if n, sizes := count(after); n != 3 || len(after) != 1 {
		t.Fatalf("after repair: %d endpoints in %v", n, sizes)
	}

	// Labels removed by hand are restored.
	edited := cur[0].DeepCopy()
	delete(edited.Labels, "team")
	p = reconcile(svc, []*discovery.EndpointSlice{edited}, desiredGroups(svc, pods), 100)
	if len(p.update) != 1 || p.update[0].Labels["team"] != "a" {
		t.Fatalf("labels not repaired: %+v", p)
	}
}

func TestFindPort(t *testing.T) {
	p := pod("a", "10.0.0.1", true, app)
	p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports, corev1.ContainerPort{Name: "dns", ContainerPort: 5353, Protocol: corev1.ProtocolUDP})
	always := corev1.ContainerRestartPolicyAlways
	p.Spec.InitContainers = []corev1.Container{{Name: "side", RestartPolicy: &always, Ports: []corev1.ContainerPort{{Name: "proxy", ContainerPort: 15001}}}}
	for _, tc := range []struct {
		sp   corev1.ServicePort
		want int32
		err  bool
	}{
		{corev1.ServicePort{Port: 80, TargetPort: intstr.FromInt32(8080)}, 8080, false},
		{corev1.ServicePort{Port: 80}, 80, false},
		{corev1.ServicePort{Port: 80, TargetPort: intstr.FromString("http")}, 8080, false},
		{corev1.ServicePort{Port: 53, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromString("dns")}, 5353, false},
		{corev1.ServicePort{Port: 53, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromString("dns")}, 0, true},
		{corev1.ServicePort{Port: 1, TargetPort: intstr.FromString("proxy")}, 15001, false},
		{corev1.ServicePort{Port: 1, TargetPort: intstr.FromString("nope")}, 0, true},
	} {
		got, err := findPort(p, &tc.sp)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("%+v: got %d, %v", tc.sp, got, err)
		}
	}
}

func TestDesiredSubsetsTruncates(t *testing.T) {
	svc := service("web", app, tcpPort("http", 80, intstr.FromInt32(8080)))
	pods := readyPods(0, 1001)
	subsets, truncated := desiredSubsets(svc, pods)
	if !truncated || len(subsets) != 1 || len(subsets[0].Addresses) != 1000 {
		t.Fatalf("truncated %v, %d subsets", truncated, len(subsets))
	}
}
