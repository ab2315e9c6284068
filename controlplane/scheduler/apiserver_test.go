package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"rudder/controlplane/apiserver"
	"rudder/controlplane/apiserver/authn"
	"rudder/controlplane/storage/bolt"
)

// startAPIServer runs rudder's apiserver over bbolt in a temp dir and returns
// a client for it.
func startAPIServer(tb testing.TB) kubernetes.Interface {
	tb.Helper()
	store, err := bolt.Open(bolt.Config{Path: filepath.Join(tb.TempDir(), "state.db"), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	_, svcNet, _ := net.ParseCIDR("10.96.0.0/12")
	const token = "scheduler-test"
	api, err := apiserver.New(apiserver.Config{
		Store:         store,
		Authenticator: &authn.Authenticator{Tokens: authn.Tokens{token: {Name: "tester", Groups: []string{"system:masters"}}}},
		ServiceCIDR:   svcNet, NodePortBase: 30000, NodePortSize: 2768,
		AdvertiseAddress: net.IPv4(127, 0, 0, 1), Port: 6443,
		Version: version.Info{Major: "1", Minor: "33", GitVersion: "v1.33.0+rudder"},
		Logger:  slog.New(slog.DiscardHandler),
	})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	if err := api.Bootstrap(ctx); err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(api.Handler())
	tb.Cleanup(srv.Close)
	client, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL, BearerToken: token, QPS: -1})
	if err != nil {
		tb.Fatal(err)
	}
	return client
}

// apiPod is pod() made fit for creation through the API.
func apiPod(name string, milliCPU, memory int64, muts ...func(*v1.Pod)) *v1.Pod {
	p := pod(name, milliCPU, memory, muts...)
	p.UID = ""
	p.Spec.Containers[0].Image = "registry.k8s.io/pause:3.10"
	return p
}

// createAll creates nodes and pods with a few workers.
func createAll(tb testing.TB, client kubernetes.Interface, nodes []*v1.Node, pods []*v1.Pod) {
	tb.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	var failed atomic.Value
	work := make(chan func() error)
	for range 32 {
		wg.Go(func() {
			for fn := range work {
				if err := fn(); err != nil {
					failed.Store(err)
				}
			}
		})
	}
	for _, n := range nodes {
		work <- func() error { _, err := client.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); return err }
	}
	for _, p := range pods {
		work <- func() error {
			_, err := client.CoreV1().Pods(p.Namespace).Create(ctx, p, metav1.CreateOptions{})
			return err
		}
	}
	close(work)
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		tb.Fatalf("create: %v", err)
	}
}

func TestSchedulerAgainstAPIServer(t *testing.T) {
	client := startAPIServer(t)
	var nodes []*v1.Node
	for i := range 5 {
		nodes = append(nodes, node(fmt.Sprintf("n%d", i), 1000, 4*gi, 110))
	}
	var pods []*v1.Pod
	for i := range 20 {
		pods = append(pods, apiPod(fmt.Sprintf("p%02d", i), 200, 0, ownedBy("rs")))
	}
	pods = append(pods, apiPod("big", 2000, 0))
	createAll(t, client, nodes, pods)

	factory := informers.NewSharedInformerFactory(client, 0)
	s, err := New(Config{Client: client, Informers: factory, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done }()

	const want = "0/5 nodes are available: 5 Insufficient cpu. preemption: 0/5 nodes are available: 5 Preemption is not helpful for scheduling."
	eventually(t, "pods bound and big pod unschedulable", func() (bool, string) {
		list, err := client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		perNode := map[string]int{}
		bigOK := false
		for _, p := range list.Items {
			if p.Name == "big" {
				for _, c := range p.Status.Conditions {
					bigOK = bigOK || (c.Type == v1.PodScheduled && c.Reason == v1.PodReasonUnschedulable && c.Message == want)
				}
				continue
			}
			perNode[p.Spec.NodeName]++
		}
		for _, n := range nodes {
			if perNode[n.Name] != 4 { // 20 pods of 200m spread over 5 nodes of 1000m
				return false, fmt.Sprintf("per node %v, big condition ok %v", perNode, bigOK)
			}
		}
		return bigOK, fmt.Sprintf("per node %v, big condition ok %v", perNode, bigOK)
	})
	eventually(t, "FailedScheduling event", func() (bool, string) {
		evs, err := client.CoreV1().Events("default").List(ctx, metav1.ListOptions{FieldSelector: "reason=FailedScheduling"})
		if err != nil {
			return false, err.Error()
		}
		for _, e := range evs.Items {
			if e.InvolvedObject.Name == "big" && e.Message == want {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d events", len(evs.Items))
	})
}

// BenchmarkScheduleAPIServer is BenchmarkSchedule against rudder's apiserver
// over bbolt through HTTP: 5,000 nodes and 10,000 pending pods are created
// first (not timed); the time runs from Run until every pod's binding has
// been seen by the scheduler's informer.
func BenchmarkScheduleAPIServer(b *testing.B) {
	const numNodes, numPods = 5000, 10000
	for range b.N {
		b.StopTimer()
		client := startAPIServer(b)
		nodes := make([]*v1.Node, 0, numNodes)
		for i := range numNodes {
			nodes = append(nodes, node(fmt.Sprintf("node-%04d", i), 4000, 16*gi, 110))
		}
		pods := make([]*v1.Pod, 0, numPods)
		for i := range numPods {
			pods = append(pods, apiPod(fmt.Sprintf("pod-%05d", i), 100, 128<<20, ownedBy(fmt.Sprintf("rs-%d", i%100))))
		}
		setup := time.Now()
		createAll(b, client, nodes, pods)
		b.Logf("created %d nodes and %d pods in %v", numNodes, numPods, time.Since(setup))

		factory := informers.NewSharedInformerFactory(client, 0)
		s, err := New(Config{Client: client, Informers: factory, Recorder: &record.FakeRecorder{}, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		var bound atomic.Int64
		factory.Core().V1().Pods().Informer().AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			UpdateFunc: func(oldObj, obj any) {
				if oldObj.(*v1.Pod).Spec.NodeName == "" && obj.(*v1.Pod).Spec.NodeName != "" {
					bound.Add(1)
				}
			},
		})
		ctx, cancel := context.WithCancel(context.Background())
		factory.Start(ctx.Done())
		toolscache.WaitForCacheSync(ctx.Done(), s.synced...)
		for {
			if a, _, _ := s.queue.lengths(); a == numPods {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}

		b.StartTimer()
		start := time.Now()
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		for bound.Load() < numPods {
			time.Sleep(time.Millisecond)
		}
		elapsed := time.Since(start)
		b.StopTimer()
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(numPods/elapsed.Seconds(), "pods/s")
		checkBalanced(b, s, numNodes, numPods)
		factory.Shutdown()
	}
}
