package kubelet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	corelisters "k8s.io/client-go/listers/core/v1"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"
)

// rtCtr is a container instance of fakeRuntime; tests end it with finish.
type rtCtr struct {
	id, name string
	started  time.Time
	done     chan struct{}
	once     sync.Once
	mu       sync.Mutex
	exit     ExitStatus
}

func (c *rtCtr) ID() string            { return c.id }
func (c *rtCtr) PID() int              { return 4242 }
func (c *rtCtr) StartedAt() time.Time  { return c.started }
func (c *rtCtr) Done() <-chan struct{} { return c.done }

func (c *rtCtr) Exit() ExitStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.exit
}

// finish ends the instance once; later calls change nothing.
func (c *rtCtr) finish(e ExitStatus) {
	c.once.Do(func() {
		c.mu.Lock()
		c.exit = e
		c.mu.Unlock()
		close(c.done)
	})
}

func (c *rtCtr) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// stopCall is one Runtime.Stop.
type stopCall struct {
	name  string
	grace time.Duration
}

// fakeRuntime records what the kubelet asks of a container runtime.
type fakeRuntime struct {
	clock *clocktesting.FakeClock

	mu       sync.Mutex
	specs    []ContainerSpec
	ctrs     []*rtCtr
	startErr map[string][]error // per container name, used up in order
	execFn   func(c *rtCtr, cmd []string) (int, error)
	log      []string // "start:NAME", "exec:NAME:CMD", "stop:NAME"
	stops    []stopCall
	killed   []string
}

func newFakeRuntime(clk *clocktesting.FakeClock) *fakeRuntime {
	return &fakeRuntime{clock: clk, startErr: map[string][]error{}}
}

func (r *fakeRuntime) Start(_ context.Context, s ContainerSpec) (Container, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if errs := r.startErr[s.Name]; len(errs) > 0 {
		r.startErr[s.Name] = errs[1:]
		if errs[0] != nil {
			return nil, errs[0]
		}
	}
	r.specs = append(r.specs, s)
	c := &rtCtr{id: fmt.Sprintf("%s-%d", s.Name, len(r.ctrs)), name: s.Name, started: r.clock.Now(), done: make(chan struct{})}
	r.ctrs = append(r.ctrs, c)
	r.log = append(r.log, "start:"+s.Name)
	return c, nil
}

func (r *fakeRuntime) Stop(c Container, grace time.Duration) error {
	fc, ok := c.(*rtCtr)
	if !ok {
		return errors.New("fake runtime: not my container")
	}
	r.mu.Lock()
	r.stops = append(r.stops, stopCall{name: fc.name, grace: grace})
	r.log = append(r.log, "stop:"+fc.name)
	r.mu.Unlock()
	e := ExitStatus{Code: 143, Signal: "terminated", Reason: "Error", FinishedAt: r.clock.Now()}
	if grace <= 0 {
		e = ExitStatus{Code: 137, Signal: "killed", Reason: "Error", FinishedAt: r.clock.Now()}
	}
	fc.finish(e)
	return nil
}

func (r *fakeRuntime) Exec(_ context.Context, c Container, cmd []string, _ ExecStreams) (int, error) {
	fc, ok := c.(*rtCtr)
	if !ok {
		return 0, errors.New("fake runtime: not my container")
	}
	r.mu.Lock()
	r.log = append(r.log, "exec:"+fc.name+":"+strings.Join(cmd, " "))
	fn := r.execFn
	r.mu.Unlock()
	if fn == nil {
		return 0, nil
	}
	return fn(fc, cmd)
}

func (r *fakeRuntime) KillPod(uid string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.killed = append(r.killed, uid)
	return nil
}

func (r *fakeRuntime) LogPath(namespace, pod, uid, container string, restartCount int) string {
	return fmt.Sprintf("/fake/logs/%s_%s_%s/%s/%d.log", namespace, pod, uid, container, restartCount)
}

// failStart makes the next starts of a container fail with errs in order.
func (r *fakeRuntime) failStart(name string, errs ...error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.startErr[name] = append(r.startErr[name], errs...)
}

// started lists the names of the started instances, in order.
func (r *fakeRuntime) started() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, c := range r.ctrs {
		out = append(out, c.name)
	}
	return out
}

// latest is the newest instance of a container, nil if none.
func (r *fakeRuntime) latest(name string) *rtCtr {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.ctrs) - 1; i >= 0; i-- {
		if r.ctrs[i].name == name {
			return r.ctrs[i]
		}
	}
	return nil
}

func (r *fakeRuntime) lastSpec(name string) (ContainerSpec, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.specs) - 1; i >= 0; i-- {
		if r.specs[i].Name == name {
			return r.specs[i], true
		}
	}
	return ContainerSpec{}, false
}

func (r *fakeRuntime) calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.log...)
}

func (r *fakeRuntime) stopCalls() []stopCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]stopCall(nil), r.stops...)
}

// exit ends the newest instance of a container with code, now.
func (r *fakeRuntime) exit(t *testing.T, name string, code int) {
	t.Helper()
	c := r.latest(name)
	if c == nil {
		t.Fatalf("container %s was never started", name)
	}
	c.finish(ExitStatus{Code: code, FinishedAt: r.clock.Now()})
}

// fakeNetwork is a PodNetwork handing out one address per pod.
type fakeNetwork struct {
	mu        sync.Mutex
	readyErr  error
	setupErr  error
	setups    []types.UID
	teardowns []types.UID
}

func (n *fakeNetwork) Ready(context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.readyErr
}

func (n *fakeNetwork) setReady(err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.readyErr = err
}

func (n *fakeNetwork) Setup(_ context.Context, pod *corev1.Pod) ([]string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.setupErr != nil {
		return nil, n.setupErr
	}
	n.setups = append(n.setups, pod.UID)
	return []string{"10.244.1.5"}, nil
}

func (n *fakeNetwork) Teardown(_ context.Context, pod *corev1.Pod) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.teardowns = append(n.teardowns, pod.UID)
	return nil
}

func (n *fakeNetwork) NetNSPath(pod *corev1.Pod) string { return "/fake/netns/" + string(pod.UID) }

func (n *fakeNetwork) teardownCount() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.teardowns)
}

// harness is a Kubelet over fakes whose pod workers tests drive by hand.
type harness struct {
	t      *testing.T
	ctx    context.Context
	cancel context.CancelFunc
	clock  *clocktesting.FakeClock
	client *fake.Clientset
	rt     *fakeRuntime
	net    *fakeNetwork
	rec    *record.FakeRecorder
	svcs   cache.Indexer
	k      *Kubelet
}

var testStart = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// newHarness builds a kubelet; withNet false leaves Deps.Network nil.
func newHarness(t *testing.T, withNet bool) *harness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	h := &harness{t: t, ctx: ctx, cancel: cancel, clock: clocktesting.NewFakeClock(testStart), client: fake.NewClientset(),
		rec: record.NewFakeRecorder(10000)}
	h.rt = newFakeRuntime(h.clock)
	dir := t.TempDir()
	resolv := filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(resolv, []byte("nameserver 192.0.2.53\nsearch example.org\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	deps := Deps{Client: h.client, Runtime: h.rt, Clock: h.clock}
	if withNet {
		h.net = &fakeNetwork{}
		deps.Network = h.net
	}
	cfg := Config{NodeName: "node1", NodeIPs: []string{"192.0.2.10"}, RootDir: filepath.Join(dir, "root"),
		ClusterDNS: []string{"10.96.0.10"}, ResolvConf: resolv, Port: 10250,
		NodeLabels: map[string]string{"rudder.dev/zone": "a"},
		Logger:     slog.New(slog.DiscardHandler)}
	k, err := New(cfg, deps)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(k.probes.Stop)
	k.ctx = ctx
	k.recorder = h.rec
	h.svcs = cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	k.services = corelisters.NewServiceLister(h.svcs)
	k.pods = corelisters.NewPodLister(cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}))
	h.k = k
	return h
}

// worker stores pod in the API and returns a new worker for it.
func (h *harness) worker(pod *corev1.Pod) *podWorker {
	h.t.Helper()
	if _, err := h.client.CoreV1().Pods(pod.Namespace).Create(h.ctx, pod, metav1.CreateOptions{}); err != nil {
		h.t.Fatalf("create pod: %v", err)
	}
	return newPodWorker(h.k, h.apiPod(pod.Namespace, pod.Name))
}

func (h *harness) apiPod(ns, name string) *corev1.Pod {
	h.t.Helper()
	p, err := h.client.CoreV1().Pods(ns).Get(h.ctx, name, metav1.GetOptions{})
	if err != nil {
		h.t.Fatalf("get pod %s/%s: %v", ns, name, err)
	}
	return p
}

// sync runs one pass of w over the pod as the API holds it now.
func (h *harness) sync(w *podWorker) bool {
	h.t.Helper()
	return w.sync(h.ctx, h.apiPod(w.ns, w.name))
}

// status is the pod status the API holds.
func (h *harness) status(w *podWorker) corev1.PodStatus {
	h.t.Helper()
	return h.apiPod(w.ns, w.name).Status
}

// statusPatches counts the pod status patches sent so far.
func (h *harness) statusPatches() int {
	n := 0
	for _, a := range h.client.Actions() {
		if a.GetVerb() == "patch" && a.GetResource().Resource == "pods" && a.GetSubresource() == "status" {
			n++
		}
	}
	return n
}

// events drains the recorded events.
func (h *harness) events() []string {
	var out []string
	for {
		select {
		case e := <-h.rec.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

// deletes are the pod delete actions sent.
func (h *harness) deletes() []k8stesting.DeleteActionImpl {
	var out []k8stesting.DeleteActionImpl
	for _, a := range h.client.Actions() {
		if d, ok := a.(k8stesting.DeleteActionImpl); ok && d.GetResource().Resource == "pods" {
			out = append(out, d)
		}
	}
	return out
}

// waitExited waits (briefly, in real time) for a container instance
// ended by a goroutine of the kubelet.
func waitExited(t *testing.T, c *rtCtr) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatalf("container %s did not exit", c.id)
	}
}

// testPod is a pod on node1 with the given containers.
func testPod(name string, policy corev1.RestartPolicy, ctrs ...corev1.Container) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID(name + "-uid")},
		Spec:       corev1.PodSpec{NodeName: "node1", RestartPolicy: policy, Containers: ctrs},
	}
}

func ctr(name string) corev1.Container {
	return corev1.Container{Name: name, Image: "busybox", Command: []string{"sleep", "3600"}}
}

// ctrStatus finds a container status by name.
func ctrStatus(t *testing.T, list []corev1.ContainerStatus, name string) corev1.ContainerStatus {
	t.Helper()
	for _, cs := range list {
		if cs.Name == name {
			return cs
		}
	}
	t.Fatalf("no status for container %s in %+v", name, list)
	return corev1.ContainerStatus{}
}

func podCond(st corev1.PodStatus, typ corev1.PodConditionType) corev1.ConditionStatus {
	for _, c := range st.Conditions {
		if c.Type == typ {
			return c.Status
		}
	}
	return ""
}
