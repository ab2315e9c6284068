package endpointslice

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"
)

const ns = "default"

type harness struct {
	t      *testing.T
	client kubernetes.Interface
	ctx    context.Context
	writes atomic.Int64 // endpointslice create/update/delete calls
}

// startWith runs a controller over the given client; fake clients get a
// reactor that fills in generateName as the apiserver does.
func startWith(t *testing.T, client kubernetes.Interface, max int) *harness {
	return startClock(t, client, max, nil)
}

func startClock(t *testing.T, client kubernetes.Interface, max int, clk clock.PassiveClock) *harness {
	t.Helper()
	h := &harness{t: t, client: client}
	if f, ok := client.(*fake.Clientset); ok {
		// Like the apiserver: generated names, UIDs, resourceVersions, and
		// optimistic concurrency on updates that carry a resourceVersion.
		var n atomic.Int64
		var mu sync.Mutex // serialises the check-and-update below
		f.PrependReactor("create", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
			obj := a.(k8stesting.CreateAction).GetObject().(metav1.Object)
			if obj.GetName() == "" && obj.GetGenerateName() != "" {
				obj.SetName(fmt.Sprintf("%s%05d", obj.GetGenerateName(), n.Add(1)))
			}
			if obj.GetUID() == "" {
				obj.SetUID(types.UID(fmt.Sprintf("uid-%d", n.Add(1))))
			}
			obj.SetResourceVersion(fmt.Sprint(n.Add(1)))
			return false, nil, nil
		})
		f.PrependReactor("update", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
			u := a.(k8stesting.UpdateAction)
			obj := u.GetObject().(metav1.Object)
			mu.Lock()
			defer mu.Unlock()
			if rv := obj.GetResourceVersion(); rv != "" {
				cur, err := f.Tracker().Get(u.GetResource(), u.GetNamespace(), obj.GetName())
				if err != nil {
					return true, nil, err
				}
				if cur.(metav1.Object).GetResourceVersion() != rv {
					return true, nil, apierrors.NewConflict(u.GetResource().GroupResource(), obj.GetName(), fmt.Errorf("resourceVersion %s is stale", rv))
				}
			}
			obj.SetResourceVersion(fmt.Sprint(n.Add(1)))
			if err := f.Tracker().Update(u.GetResource(), u.GetObject(), u.GetNamespace()); err != nil {
				return true, nil, err
			}
			return true, u.GetObject(), nil
		})
		f.PrependReactor("*", "endpointslices", func(a k8stesting.Action) (bool, runtime.Object, error) {
			switch a.GetVerb() {
			case "create", "update", "delete":
				h.writes.Add(1)
			}
			return false, nil, nil
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	h.ctx = ctx
	inf := informers.NewSharedInformerFactory(client, 0)
	c, err := New(Config{Client: client, Informers: inf, MaxEndpointsPerSlice: max, Logger: slog.New(slog.DiscardHandler), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	inf.Start(ctx.Done())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := c.Run(ctx, 2); err != nil && ctx.Err() == nil {
			t.Error(err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		inf.Shutdown()
	})
	return h
}

func start(t *testing.T, max int) *harness {
	return startWith(t, fake.NewClientset(), max)
}

func service(name string, sel map[string]string, ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: types.UID("svc-" + name), Labels: map[string]string{"team": "a"}},
		Spec:       corev1.ServiceSpec{Selector: sel, Ports: ports, ClusterIP: "10.96.0.10"},
	}
}

func tcpPort(name string, port int32, target intstr.IntOrString) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Port: port, TargetPort: target, Protocol: corev1.ProtocolTCP}
}

func pod(name, ip string, ready bool, lbls map[string]string) *corev1.Pod {
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: types.UID("pod-" + name), Labels: lbls},
		Spec: corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "c", Ports: []corev1.ContainerPort{
			{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP},
		}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}},
	}
}

var app = map[string]string{"app": "web"}

func (h *harness) createSvc(s *corev1.Service) {
	h.t.Helper()
	if _, err := h.client.CoreV1().Services(ns).Create(h.ctx, s, metav1.CreateOptions{}); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) updateSvc(s *corev1.Service) {
	h.t.Helper()
	if _, err := h.client.CoreV1().Services(ns).Update(h.ctx, s, metav1.UpdateOptions{}); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) createPod(p *corev1.Pod) {
	h.t.Helper()
	if _, err := h.client.CoreV1().Pods(ns).Create(h.ctx, p, metav1.CreateOptions{}); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) updatePod(p *corev1.Pod) {
	h.t.Helper()
	if _, err := h.client.CoreV1().Pods(ns).Update(h.ctx, p, metav1.UpdateOptions{}); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) slices(svc string) []discovery.EndpointSlice {
	h.t.Helper()
	l, err := h.client.DiscoveryV1().EndpointSlices(ns).List(h.ctx, metav1.ListOptions{LabelSelector: discovery.LabelServiceName + "=" + svc})
	if err != nil {
		h.t.Fatal(err)
	}
	sort.Slice(l.Items, func(i, j int) bool { return l.Items[i].Name < l.Items[j].Name })
	return l.Items
}

// eventually polls cond until it holds, failing with the last reason.
func (h *harness) eventually(what string, cond func() (bool, string)) {
	h.t.Helper()
	var why string
	err := wait.PollUntilContextTimeout(h.ctx, 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		ok, w := cond()
		why = w
		return ok, nil
	})
	if err != nil {
		h.t.Fatalf("%s: %s", what, why)
	}
	if testing.Verbose() {
		h.t.Logf("%s: done at %s", what, time.Now().Format("15:04:05.000"))
	}
}

type epState struct {
	ready, serving, terminating bool
	node, hostname              string
}

// endpoints flattens a service's slices to address → conditions.
func (h *harness) endpoints(svc string) map[string]epState {
	out := map[string]epState{}
	for _, s := range h.slices(svc) {
		for _, ep := range s.Endpoints {
			st := epState{ready: *ep.Conditions.Ready, serving: *ep.Conditions.Serving, terminating: *ep.Conditions.Terminating}
			if ep.NodeName != nil {
				st.node = *ep.NodeName
			}
			if ep.Hostname != nil {
				st.hostname = *ep.Hostname
			}
			out[ep.Addresses[0]] = st
		}
	}
	return out
}

func (h *harness) waitEndpoints(svc string, want map[string]epState) {
	h.t.Helper()
	h.eventually("endpoints of "+svc, func() (bool, string) {
		got := h.endpoints(svc)
		var diff []string
		for k, v := range got {
			if w, ok := want[k]; !ok || w != v {
				diff = append(diff, fmt.Sprintf("%s: got %+v", k, v))
			}
		}
		for k, w := range want {
			if _, ok := got[k]; !ok {
				diff = append(diff, fmt.Sprintf("%s: missing, want %+v", k, w))
			}
		}
		return len(diff) == 0, fmt.Sprint(diff)
	})
}

func TestReadinessTransitions(t *testing.T) {
	h := start(t, 100)
	h.createSvc(service("web", app, tcpPort("http", 80, intstr.FromInt32(8080))))
	p := pod("p1", "10.244.0.5", false, app)
	h.createPod(p)
	h.waitEndpoints("web", map[string]epState{"10.244.0.5": {node: "node-1"}})

	p.Status.Conditions[0].Status = corev1.ConditionTrue
	h.updatePod(p)
	h.waitEndpoints("web", map[string]epState{"10.244.0.5": {ready: true, serving: true, node: "node-1"}})

	p.Status.Conditions[0].Status = corev1.ConditionFalse
	h.updatePod(p)
	h.waitEndpoints("web", map[string]epState{"10.244.0.5": {node: "node-1"}})

	s := h.slices("web")
	if len(s) != 1 {
		t.Fatalf("want 1 slice, got %d", len(s))
	}
	sl := s[0]
	if sl.AddressType != discovery.AddressTypeIPv4 || sl.GenerateName != "web-" || sl.Labels[discovery.LabelManagedBy] != ManagedBy || sl.Labels["team"] != "a" {
		t.Errorf("slice meta: %+v", sl.ObjectMeta)
	}
	if ref := metav1.GetControllerOf(&sl); ref == nil || ref.UID != "svc-web" || ref.Kind != "Service" {
		t.Errorf("owner: %+v", sl.OwnerReferences)
	}
	if len(sl.Ports) != 1 || *sl.Ports[0].Port != 8080 || *sl.Ports[0].Name != "http" {
		t.Errorf("ports: %+v", sl.Ports)
	}
	ep := sl.Endpoints[0]
	if ep.TargetRef == nil || ep.TargetRef.Kind != "Pod" || ep.TargetRef.Name != "p1" || ep.TargetRef.UID != "pod-p1" {
		t.Errorf("targetRef: %+v", ep.TargetRef)
	}
	if _, err := time.Parse(time.RFC3339Nano, sl.Annotations[corev1.EndpointsLastChangeTriggerTime]); err != nil {
		t.Errorf("trigger time annotation: %v", err)
	}

	// publishNotReadyAddresses: ready regardless.
	svc, _ := h.client.CoreV1().Services(ns).Get(h.ctx, "web", metav1.GetOptions{})
	svc.Spec.PublishNotReadyAddresses = true
	h.updateSvc(svc)
	h.waitEndpoints("web", map[string]epState{"10.244.0.5": {ready: true, node: "node-1"}})
}

func TestTerminatingAndSkippedPods(t *testing.T) {
	h := start(t, 100)
	h.createSvc(service("web", app, tcpPort("http", 80, intstr.FromInt32(8080))))
	p1 := pod("p1", "10.244.0.5", true, app)
	h.createPod(p1)
	h.createPod(pod("noip", "", true, app))
	done := pod("done", "10.244.0.9", false, app)
	done.Spec.RestartPolicy = corev1.RestartPolicyNever
	done.Status.Phase = corev1.PodSucceeded
	h.createPod(done)
	h.createPod(pod("other", "10.244.0.7", true, map[string]string{"app": "db"}))
	h.waitEndpoints("web", map[string]epState{"10.244.0.5": {ready: true, serving: true, node: "node-1"}})

	now := metav1.Now()
	p1.DeletionTimestamp = &now
	h.updatePod(p1)
	h.waitEndpoints("web", map[string]epState{"10.244.0.5": {serving: true, terminating: true, node: "node-1"}})
	p1.Status.Conditions[0].Status = corev1.ConditionFalse
	h.updatePod(p1)
	h.waitEndpoints("web", map[string]epState{"10.244.0.5": {terminating: true, node: "node-1"}})
	// Terminating pods are not in Endpoints (publishNotReadyAddresses unset).
	h.eventually("endpoints empty", func() (bool, string) {
		ep, err := h.client.CoreV1().Endpoints(ns).Get(h.ctx, "web", metav1.GetOptions{})
		return err == nil && len(ep.Subsets) == 0, fmt.Sprint(ep, err)
	})

	if err := h.client.CoreV1().Pods(ns).Delete(h.ctx, "p1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	h.waitEndpoints("web", map[string]epState{})
	// The placeholder slice remains.
	h.eventually("placeholder", func() (bool, string) {
		s := h.slices("web")
		return len(s) == 1 && len(s[0].Endpoints) == 0 && len(s[0].Ports) == 0, fmt.Sprint(s)
	})
}

func TestNamedPortsSplitSlices(t *testing.T) {
	h := start(t, 100)
	h.createSvc(service("web", app, tcpPort("http", 80, intstr.FromString("http")), tcpPort("metrics", 9090, intstr.FromInt32(9090))))
	h.createPod(pod("a", "10.244.0.1", true, app))
	b := pod("b", "10.244.0.2", true, app)
	b.Spec.Containers[0].Ports[0].ContainerPort = 8081
	h.createPod(b)
	c := pod("c", "10.244.0.3", true, app)
	c.Spec.Containers[0].Ports = nil // "http" does not resolve: only metrics
	h.createPod(c)

	h.eventually("three port sets", func() (bool, string) {
		got := map[string][]string{}
		for _, s := range h.slices("web") {
			for _, ep := range s.Endpoints {
				got[portsKey(s.Ports)] = append(got[portsKey(s.Ports)], ep.Addresses[0])
			}
		}
		want := map[string][]string{
			"http/TCP/8080/,metrics/TCP/9090/": {"10.244.0.1"},
			"http/TCP/8081/,metrics/TCP/9090/": {"10.244.0.2"},
			"metrics/TCP/9090/":                {"10.244.0.3"},
		}
		return fmt.Sprint(got) == fmt.Sprint(want) && len(h.slices("web")) == 3, fmt.Sprint(got)
	})

	// b's port changes to 8080: it joins a's slice, its own slice goes.
	b.Spec.Containers[0].Ports[0].ContainerPort = 8080
	b.Labels = map[string]string{"app": "web", "v": "2"} // a label change triggers the resync
	h.updatePod(b)
	h.eventually("two slices", func() (bool, string) {
		s := h.slices("web")
		return len(s) == 2, fmt.Sprint(len(s))
	})
}

func TestManyPodsManySlices(t *testing.T) {
	h := start(t, 100)
	h.createSvc(service("web", app, tcpPort("http", 80, intstr.FromInt32(8080))))
	want := map[string]epState{}
	for i := range 250 {
		ip := fmt.Sprintf("10.244.%d.%d", i/200, i%200+1)
		h.createPod(pod(fmt.Sprintf("p%03d", i), ip, true, app))
		want[ip] = epState{ready: true, serving: true, node: "node-1"}
	}
	h.waitEndpoints("web", want)
	h.eventually("3 slices of ≤100", func() (bool, string) {
		s := h.slices("web")
		for _, sl := range s {
			if len(sl.Endpoints) > 100 {
				return false, "slice over capacity"
			}
		}
		return len(s) == 3, fmt.Sprint(len(s), " slices")
	})
	// Quiescent: no further writes.
	before := h.writes.Load()
	time.Sleep(200 * time.Millisecond)
	if d := h.writes.Load() - before; d != 0 {
		t.Errorf("%d slice writes while nothing changed", d)
	}
	// One pod goes unready: exactly one slice update.
	p, _ := h.client.CoreV1().Pods(ns).Get(h.ctx, "p007", metav1.GetOptions{})
	p.Status.Conditions[0].Status = corev1.ConditionFalse
	before = h.writes.Load()
	h.updatePod(p)
	want["10.244.0.8"] = epState{node: "node-1"}
	h.waitEndpoints("web", want)
	time.Sleep(100 * time.Millisecond)
	if d := h.writes.Load() - before; d != 1 {
		t.Errorf("one readiness change: %d slice writes, want 1", d)
	}
}

func TestSelectorChangeAndDelete(t *testing.T) {
	h := start(t, 100)
	svc := service("web", app, tcpPort("http", 80, intstr.FromInt32(8080)))
	h.createSvc(svc)
	h.createPod(pod("a", "10.244.0.1", true, app))
	h.createPod(pod("b", "10.244.0.2", true, map[string]string{"app": "web2"}))
	h.waitEndpoints("web", map[string]epState{"10.244.0.1": {ready: true, serving: true, node: "node-1"}})

	svc.Spec.Selector = map[string]string{"app": "web2"}
	h.updateSvc(svc)
	h.waitEndpoints("web", map[string]epState{"10.244.0.2": {ready: true, serving: true, node: "node-1"}})

	// Pod relabelled away from the selector.
	b, _ := h.client.CoreV1().Pods(ns).Get(h.ctx, "b", metav1.GetOptions{})
	b.Labels = map[string]string{"app": "none"}
	h.updatePod(b)
	h.waitEndpoints("web", map[string]epState{})

	if err := h.client.CoreV1().Services(ns).Delete(h.ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	h.eventually("slices and endpoints gone", func() (bool, string) {
		_, err := h.client.CoreV1().Endpoints(ns).Get(h.ctx, "web", metav1.GetOptions{})
		return len(h.slices("web")) == 0 && err != nil, fmt.Sprint(len(h.slices("web")), err)
	})
}

func TestSelectorlessAndExternalName(t *testing.T) {
	h := start(t, 100)
	h.createPod(pod("a", "10.244.0.1", true, app))
	own := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "manual", Namespace: ns},
		Subsets: []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{{IP: "192.0.2.1"}}}}}
	if _, err := h.client.CoreV1().Endpoints(ns).Create(h.ctx, own, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.createSvc(service("manual", nil, tcpPort("http", 80, intstr.FromInt32(80))))
	ext := service("ext", app)
	ext.Spec.Type = corev1.ServiceTypeExternalName
	ext.Spec.ExternalName = "example.com"
	ext.Spec.ClusterIP = ""
	h.createSvc(ext)
	// A selector service as a barrier: once it is synced, the others were seen.
	h.createSvc(service("web", app, tcpPort("http", 80, intstr.FromInt32(8080))))
	h.waitEndpoints("web", map[string]epState{"10.244.0.1": {ready: true, serving: true, node: "node-1"}})
	time.Sleep(100 * time.Millisecond)
	if n := len(h.slices("manual")) + len(h.slices("ext")); n != 0 {
		t.Errorf("%d slices for selectorless/ExternalName services", n)
	}
	ep, err := h.client.CoreV1().Endpoints(ns).Get(h.ctx, "manual", metav1.GetOptions{})
	if err != nil || len(ep.Subsets) != 1 || ep.Subsets[0].Addresses[0].IP != "192.0.2.1" {
		t.Errorf("user Endpoints touched: %v %v", ep, err)
	}
	if _, err := h.client.CoreV1().Endpoints(ns).Get(h.ctx, "ext", metav1.GetOptions{}); err == nil {
		t.Errorf("Endpoints written for an ExternalName service")
	}
}

func TestHandEditedSliceRepaired(t *testing.T) {
	h := start(t, 100)
	h.createSvc(service("web", app, tcpPort("http", 80, intstr.FromInt32(8080))))
	h.createPod(pod("a", "10.244.0.1", true, app))
	want := map[string]epState{"10.244.0.1": {ready: true, serving: true, node: "node-1"}}
	h.waitEndpoints("web", want)

	s := h.slices("web")[0]
	f := false
	s.Endpoints[0].Conditions.Ready = &f
	s.Endpoints = append(s.Endpoints, discovery.Endpoint{Addresses: []string{"10.9.9.9"}, Conditions: discovery.EndpointConditions{Ready: &f, Serving: &f, Terminating: &f}})
	if _, err := h.client.DiscoveryV1().EndpointSlices(ns).Update(h.ctx, &s, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.waitEndpoints("web", want)

	// A deleted slice is recreated.
	if err := h.client.DiscoveryV1().EndpointSlices(ns).Delete(h.ctx, s.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	h.eventually("recreated", func() (bool, string) {
		sl := h.slices("web")
		return len(sl) == 1 && sl[0].Name != s.Name && len(sl[0].Endpoints) == 1, fmt.Sprint(sl)
	})
}

func TestEndpointsMirror(t *testing.T) {
	h := start(t, 100)
	svc := service("db", app, tcpPort("pg", 5432, intstr.FromInt32(5432)))
	svc.Spec.ClusterIP = corev1.ClusterIPNone
	h.createSvc(svc)
	a := pod("a", "10.244.0.1", true, app)
	a.Spec.Hostname, a.Spec.Subdomain = "db-0", "db"
	h.createPod(a)
	h.createPod(pod("b", "10.244.0.2", false, app))

	h.eventually("endpoints", func() (bool, string) {
		ep, err := h.client.CoreV1().Endpoints(ns).Get(h.ctx, "db", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		if len(ep.Subsets) != 1 {
			return false, fmt.Sprint(ep.Subsets)
		}
		ss := ep.Subsets[0]
		ok := len(ss.Addresses) == 1 && ss.Addresses[0].IP == "10.244.0.1" && ss.Addresses[0].Hostname == "db-0" &&
			*ss.Addresses[0].NodeName == "node-1" && ss.Addresses[0].TargetRef.Name == "a" &&
			len(ss.NotReadyAddresses) == 1 && ss.NotReadyAddresses[0].IP == "10.244.0.2" &&
			len(ss.Ports) == 1 && ss.Ports[0].Port == 5432 && ss.Ports[0].Name == "pg" &&
			ep.Labels[LabelEndpointsManagedBy] == EndpointsManagedBy && ep.Labels[corev1.IsHeadlessService] == "" &&
			ep.Labels[discovery.LabelSkipMirror] == "true"
		return ok, fmt.Sprintf("%+v %v", ss, ep.Labels)
	})
	h.waitEndpoints("db", map[string]epState{
		"10.244.0.1": {ready: true, serving: true, node: "node-1", hostname: "db-0"},
		"10.244.0.2": {node: "node-1"},
	})
	if _, ok := h.slices("db")[0].Labels[corev1.IsHeadlessService]; !ok {
		t.Errorf("headless label missing on slice")
	}

	// A hand edit of the Endpoints is repaired.
	ep, _ := h.client.CoreV1().Endpoints(ns).Get(h.ctx, "db", metav1.GetOptions{})
	ep.Subsets = nil
	if _, err := h.client.CoreV1().Endpoints(ns).Update(h.ctx, ep, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.eventually("endpoints repaired", func() (bool, string) {
		ep, err := h.client.CoreV1().Endpoints(ns).Get(h.ctx, "db", metav1.GetOptions{})
		return err == nil && len(ep.Subsets) == 1, fmt.Sprint(ep, err)
	})
}

func TestTriggerTime(t *testing.T) {
	t1 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clk := clocktesting.NewFakePassiveClock(t1)
	h := startClock(t, fake.NewClientset(), 100, clk)
	h.createSvc(service("web", app, tcpPort("http", 80, intstr.FromInt32(8080))))
	annotations := func() (string, string) {
		var sl string
		if s := h.slices("web"); len(s) == 1 {
			sl = s[0].Annotations[corev1.EndpointsLastChangeTriggerTime]
		}
		ep, _ := h.client.CoreV1().Endpoints(ns).Get(h.ctx, "web", metav1.GetOptions{})
		if ep == nil {
			return sl, ""
		}
		return sl, ep.Annotations[corev1.EndpointsLastChangeTriggerTime]
	}
	waitTrigger := func(want time.Time) {
		t.Helper()
		w := want.Format(time.RFC3339Nano)
		h.eventually("trigger time "+w, func() (bool, string) {
			sl, ep := annotations()
			return sl == w && ep == w, sl + " " + ep
		})
	}
	waitTrigger(t1)

	t2 := t1.Add(time.Minute)
	clk.SetTime(t2)
	p := pod("a", "10.244.0.1", true, app)
	h.createPod(p)
	waitTrigger(t2)

	// A change that does not alter endpoints writes nothing.
	clk.SetTime(t2.Add(time.Minute))
	p.Annotations = map[string]string{"x": "y"}
	h.updatePod(p)
	svc, _ := h.client.CoreV1().Services(ns).Get(h.ctx, "web", metav1.GetOptions{})
	svc.Annotations = map[string]string{"x": "y"}
	h.updateSvc(svc)
	time.Sleep(100 * time.Millisecond)
	if sl, ep := annotations(); sl != t2.Format(time.RFC3339Nano) || ep != sl {
		t.Errorf("trigger time moved without a change: %s %s", sl, ep)
	}
}

// TestChurnConverges flips readiness, deletes and re-creates pods while the
// controller runs, then checks the invariants once things settle: every
// selected pod exactly once, nothing else, no slice over capacity.
func TestChurnConverges(t *testing.T) {
	h := start(t, 10)
	h.createSvc(service("web", app, tcpPort("http", 80, intstr.FromString("http"))))
	const n = 60
	for i := range n {
		h.createPod(pod(fmt.Sprintf("p%02d", i), fmt.Sprintf("10.244.1.%d", i+1), i%2 == 0, app))
	}
	for round := range 3 {
		for i := round; i < n; i += 3 {
			name := fmt.Sprintf("p%02d", i)
			p, err := h.client.CoreV1().Pods(ns).Get(h.ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			switch (i + round) % 3 {
			case 0:
				p.Status.Conditions[0].Status = corev1.ConditionTrue
				h.updatePod(p)
			case 1:
				if err := h.client.CoreV1().Pods(ns).Delete(h.ctx, name, metav1.DeleteOptions{}); err != nil {
					t.Fatal(err)
				}
				h.createPod(pod(name, fmt.Sprintf("10.244.2.%d", i+1), false, app))
			case 2:
				p.Spec.Containers[0].Ports[0].ContainerPort = int32(9000 + round)
				p.Labels = map[string]string{"app": "web", "round": fmt.Sprint(round)}
				h.updatePod(p)
			}
		}
	}
	h.eventually("converged", func() (bool, string) {
		pods, err := h.client.CoreV1().Pods(ns).List(h.ctx, metav1.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		want := map[string]string{} // ip → port
		for _, p := range pods.Items {
			want[p.Status.PodIP] = fmt.Sprint(p.Spec.Containers[0].Ports[0].ContainerPort)
		}
		got := map[string]string{}
		for _, s := range h.slices("web") {
			if len(s.Endpoints) > 10 {
				return false, fmt.Sprintf("slice %s has %d endpoints", s.Name, len(s.Endpoints))
			}
			for _, ep := range s.Endpoints {
				if _, dup := got[ep.Addresses[0]]; dup {
					return false, "duplicate " + ep.Addresses[0]
				}
				got[ep.Addresses[0]] = fmt.Sprint(*s.Ports[0].Port)
			}
		}
		return fmt.Sprint(got) == fmt.Sprint(want), fmt.Sprintf("got %d endpoints, want %d", len(got), len(want))
	})
}
