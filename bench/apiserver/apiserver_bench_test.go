// Package apiserver benchmarks rudder's API server as a process: pod
// creates per second from client-go with 8 workers, watch delivery latency
// and the server's RSS with 10,000 pods stored, over bbolt and over etcd.
//
//	go test -run '^$' -bench . -benchtime 1x ./bench/apiserver
package apiserver

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"rudder/controlplane/storage/etcd/etcdtest"
)

const (
	totalPods = 10000
	workers   = 8
	stampKey  = "bench.rudder.io/sent-unix-nano"
)

func BenchmarkPodCreates(b *testing.B) {
	for _, backend := range []string{"bolt", "etcd"} {
		b.Run(backend, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				runOnce(b, backend)
			}
		})
	}
}

func runOnce(b *testing.B, backend string) {
	dir := b.TempDir()
	var extra []string
	if backend == "etcd" {
		extra = []string{"--etcd-endpoints", etcdtest.Start(b).ClientURL()}
	}
	srv := startServer(b, dir, extra)
	cs := srv.client(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns := "bench"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	lat := watchLatencies(ctx, b, cs, ns)
	start := time.Now()
	createPods(ctx, b, cs, ns)
	elapsed := time.Since(start)
	latencies := lat.wait(b, totalPods)
	b.ReportMetric(float64(totalPods)/elapsed.Seconds(), "creates/s")
	b.ReportMetric(percentile(latencies, 50), "watch-p50-ms")
	b.ReportMetric(percentile(latencies, 99), "watch-p99-ms")
	b.ReportMetric(float64(srv.rssKiB(b))/1024, "rss-MiB")
}

func createPods(ctx context.Context, b *testing.B, cs *kubernetes.Clientset, ns string) {
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < totalPods; i += workers {
				pod := benchPod(fmt.Sprintf("pod-%05d", i))
				pod.Annotations = map[string]string{stampKey: strconv.FormatInt(time.Now().UnixNano(), 10)}
				if _, err := cs.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
					errs <- fmt.Errorf("create %s: %w", pod.Name, err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

func benchPod(name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "bench"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "app", Image: "rudder", Args: []string{"netexec", "--http-port=8080"},
			Ports: []corev1.ContainerPort{{ContainerPort: 8080}},
		}}},
	}
}

// latencies collects, per pod, the time from the create being sent to its
// ADDED event reaching a watcher.
type latencies struct {
	mu   sync.Mutex
	vals []float64
	done chan struct{}
}

func watchLatencies(ctx context.Context, b *testing.B, cs *kubernetes.Clientset, ns string) *latencies {
	w, err := cs.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{})
	if err != nil {
		b.Fatal(err)
	}
	l := &latencies{done: make(chan struct{})}
	go func() {
		defer w.Stop()
		for ev := range w.ResultChan() {
			pod, ok := ev.Object.(*corev1.Pod)
			if !ok {
				continue
			}
			sent, _ := strconv.ParseInt(pod.Annotations[stampKey], 10, 64)
			l.mu.Lock()
			l.vals = append(l.vals, float64(time.Now().UnixNano()-sent)/1e6)
			n := len(l.vals)
			l.mu.Unlock()
			if n == totalPods {
				close(l.done)
				return
			}
		}
	}()
	return l
}

func (l *latencies) wait(b *testing.B, n int) []float64 {
	select {
	case <-l.done:
	case <-time.After(2 * time.Minute):
		b.Fatalf("watch delivered %d of %d events", len(l.vals), n)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.vals)
}

func percentile(v []float64, p float64) float64 {
	slices.Sort(v)
	if len(v) == 0 {
		return 0
	}
	i := int(float64(len(v)-1) * p / 100)
	return v[i]
}

// server is a bin/rudder server process.
type server struct {
	cmd        *exec.Cmd
	kubeconfig string
}

func rudderBin(b *testing.B) string {
	if p := os.Getenv("RUDDER_BIN"); p != "" {
		return p
	}
	p, _ := filepath.Abs("../../bin/rudder")
	if _, err := os.Stat(p); err != nil {
		b.Fatalf("%s: %v (make build)", p, err)
	}
	return p
}

func freePort(b *testing.B) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func startServer(b *testing.B, dir string, extra []string) *server {
	kc := filepath.Join(dir, "admin.kubeconfig")
	args := append([]string{"server", "--data-dir", filepath.Join(dir, "server"), "--secure-port", strconv.Itoa(freePort(b)),
		"--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--write-kubeconfig", kc, "--log-level", "warn",
		// The API server's own throughput: without nodes the scheduler
		// would answer every pod with an event and a status write.
		"--controllers=*,-scheduler"}, extra...)
	cmd := exec.Command(rudderBin(b), args...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	s := &server{cmd: cmd, kubeconfig: kc}
	b.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGKILL); _ = cmd.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(kc); err == nil {
			if _, err := s.client(b).Discovery().ServerVersion(); err == nil {
				return s
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.Fatal("server did not start")
	return nil
}

func (s *server) client(b *testing.B) *kubernetes.Clientset {
	cfg, err := clientcmd.BuildConfigFromFlags("", s.kubeconfig)
	if err != nil {
		b.Fatal(err)
	}
	cfg.QPS, cfg.Burst = 100000, 100000
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return cs
}

func (s *server) rssKiB(b *testing.B) int {
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(st), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}
