package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
)

// TestInformerOrderAndRestart: an informer sees 1,000 creates in order,
// and after a server restart resumes from its last resourceVersion
// instead of listing again.
func TestInformerOrderAndRestart(t *testing.T) {
	s := startServer(t)
	cs, err := s.clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const ns = "default"
	var lists atomic.Int32
	base := cache.NewListWatchFromClient(cs.CoreV1().RESTClient(), "configmaps", ns, fields.Everything())
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			lists.Add(1)
			return base.ListWithContext(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			if o.SendInitialEvents != nil && *o.SendInitialEvents {
				lists.Add(1) // a streaming list (WatchList) counts as a list
			}
			return base.WatchWithContext(ctx, o)
		},
	}
	var mu sync.Mutex
	var seen []string
	inf := cache.NewSharedIndexInformer(lw, &corev1.ConfigMap{}, 0, cache.Indexers{})
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: func(obj any) {
		if !strings.HasPrefix(obj.(*corev1.ConfigMap).Name, "cm-") {
			return // kube-root-ca.crt, as in every namespace
		}
		mu.Lock()
		seen = append(seen, obj.(*corev1.ConfigMap).Name)
		mu.Unlock()
	}})
	go inf.Run(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		t.Fatal("informer did not sync")
	}
	create := func(from, to int) {
		for i := from; i < to; i++ {
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%04d", i)}, Data: map[string]string{"i": strconv.Itoa(i)}}
			if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
				t.Fatalf("create %d: %v", i, err)
			}
		}
	}
	waitSeen := func(n int) {
		eventually(t, fmt.Sprintf("informer sees %d configmaps", n), 60*time.Second, func() error {
			mu.Lock()
			defer mu.Unlock()
			if len(seen) < n {
				return fmt.Errorf("saw %d", len(seen))
			}
			return nil
		})
	}
	create(0, 1000)
	waitSeen(1000)
	mu.Lock()
	for i, name := range seen[:1000] {
		if want := fmt.Sprintf("cm-%04d", i); name != want {
			mu.Unlock()
			t.Fatalf("event %d is %s, want %s (out of order)", i, name, want)
		}
	}
	mu.Unlock()
	listsBefore := lists.Load()

	s.restart()
	cs, err = s.clientset()
	if err != nil {
		t.Fatal(err)
	}
	// The informer's watch broke with the restart; creates after it must
	// reach the informer through a watch resumed from its resourceVersion.
	eventually(t, "create after restart", 30*time.Second, func() error {
		_, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm-1000"}}, metav1.CreateOptions{})
		return err
	})
	create(1001, 1010)
	waitSeen(1010)
	if got := lists.Load(); got != listsBefore {
		t.Fatalf("informer listed %d more times after the restart; want a watch resumed from its resourceVersion", got-listsBefore)
	}
	n := 0
	for _, o := range inf.GetStore().List() {
		if strings.HasPrefix(o.(*corev1.ConfigMap).Name, "cm-") {
			n++
		}
	}
	if n != 1010 {
		t.Fatalf("informer cache holds %d of the test's configmaps, want 1010", n)
	}
}
