package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"rudder/controlplane/storage/etcd/etcdtest"
)

// TestKill9KeepsAcknowledgedWrites kills the server with SIGKILL while
// clients are writing and checks, after a restart, that every write the
// server acknowledged is there.
func TestKill9KeepsAcknowledgedWrites(t *testing.T) {
	t.Run("bolt", func(t *testing.T) { kill9(t, startServer(t)) })
	t.Run("etcd", func(t *testing.T) {
		kill9(t, startServer(t, "--etcd-endpoints", etcdtest.Start(t).ClientURL()))
	})
}

func kill9(t *testing.T, s *server) {
	cs, err := s.clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	acked := map[string]string{} // name → resourceVersion
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				name := fmt.Sprintf("w%d-%05d", w, i)
				cm, err := cs.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
				if err != nil {
					return // the server is gone
				}
				mu.Lock()
				acked[name] = cm.ResourceVersion
				mu.Unlock()
			}
		}(w)
	}
	eventually(t, "some writes acknowledged", 30*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(acked) < 300 {
			return fmt.Errorf("%d acknowledged", len(acked))
		}
		return nil
	})
	s.stop() // SIGKILL mid-stream
	wg.Wait()
	s.start()
	cs, err = s.clientset()
	if err != nil {
		t.Fatal(err)
	}
	list, err := cs.CoreV1().ConfigMaps("default").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]string{}
	for _, cm := range list.Items {
		have[cm.Name] = cm.ResourceVersion
	}
	for name, rv := range acked {
		if have[name] != rv {
			t.Fatalf("acknowledged write %s (resourceVersion %s) lost after kill -9: have %q", name, rv, have[name])
		}
	}
	t.Logf("%d acknowledged writes all present after kill -9 and restart", len(acked))
}
