package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
)

// BenchmarkSchedule places 10,000 pending pods (100 ReplicaSets of 100,
// 100m cpu and 128 MiB each) on 5,000 nodes (4 cores, 16 GiB, 110 pods) and
// reports pods/s from the start of Run until the last bind. The API is the
// client-go fake clientset (its binding reactor sets spec.nodeName and the
// informers see the update through a buffered watch), not the real apiserver.
func BenchmarkSchedule(b *testing.B) {
	const numNodes, numPods = 5000, 10000
	for range b.N {
		b.StopTimer()
		objs := make([]runtime.Object, 0, numNodes+numPods)
		for i := range numNodes {
			objs = append(objs, node(fmt.Sprintf("node-%04d", i), 4000, 16*gi, 110))
		}
		for i := range numPods {
			objs = append(objs, pod(fmt.Sprintf("pod-%05d", i), 100, 128<<20, ownedBy(fmt.Sprintf("rs-%d", i%100))))
		}
		fc := newFakeCluster(objs...)
		fc.bufferPodWatch(2 * numPods)
		factory := informers.NewSharedInformerFactory(fc.client, 0)
		s, err := New(Config{
			Client: fc.client, Informers: factory, Recorder: &record.FakeRecorder{},
			Logger: slog.New(slog.DiscardHandler),
		})
		if err != nil {
			b.Fatal(err)
		}
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
		for fc.boundCount() < numPods {
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

// checkBalanced fails if the pods piled up: least-allocated plus spreading
// should put at most a few on any node.
func checkBalanced(b *testing.B, s *Scheduler, numNodes, numPods int) {
	s.cache.mu.Lock()
	defer s.cache.mu.Unlock()
	most, total := 0, 0
	for _, ni := range s.cache.nodes {
		most = max(most, len(ni.pods))
		total += len(ni.pods)
	}
	if total != numPods || most > 2*numPods/numNodes+2 {
		b.Fatalf("%d pods accounted, at most %d on a node", total, most)
	}
}
