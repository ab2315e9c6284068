package serviceaccount

import (
	"context"
	"log/slog"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"

	"rudder/controlplane/apiserver/apiservertest"
)

const testCA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

// start runs the controller against a real apiserver with service
// accounts on and returns its client.
func start(t *testing.T) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(apiservertest.Start(t, apiservertest.WithServiceAccounts(t)))
	if err != nil {
		t.Fatal(err)
	}
	f := informers.NewSharedInformerFactory(cs, 0)
	c, err := New(Config{Client: cs, Informers: f, RootCA: []byte(testCA), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	f.Start(ctx.Done())
	go func() { defer close(done); _ = c.Run(ctx, 2) }()
	return cs
}

// eventually polls cond for up to 10s.
func eventually(t *testing.T, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 20*time.Millisecond, 10*time.Second, true, cond)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func hasDefaultAccount(cs kubernetes.Interface, ns string) func(ctx context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		_, err := cs.CoreV1().ServiceAccounts(ns).Get(ctx, DefaultName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	}
}

func hasRootCA(cs kubernetes.Interface, ns string) func(ctx context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, RootCAName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil && upToDate(cm, []byte(testCA)), err
	}
}

func TestController(t *testing.T) {
	cs := start(t)
	ctx := context.Background()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name   string
		action func() error
	}{
		{"new namespace", func() error { return nil }},
		{"service account deleted", func() error {
			return cs.CoreV1().ServiceAccounts("team").Delete(ctx, DefaultName, metav1.DeleteOptions{})
		}},
		{"config map deleted", func() error {
			return cs.CoreV1().ConfigMaps("team").Delete(ctx, RootCAName, metav1.DeleteOptions{})
		}},
		{"config map edited", func() error {
			cm, err := cs.CoreV1().ConfigMaps("team").Get(ctx, RootCAName, metav1.GetOptions{})
			if err != nil {
				return err
			}
			cm.Data = map[string]string{RootCAKey: "forged", "extra": "x"}
			_, err = cs.CoreV1().ConfigMaps("team").Update(ctx, cm, metav1.UpdateOptions{})
			return err
		}},
	}
	for _, s := range steps {
		if err := s.action(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		eventually(t, s.name+": default service account", hasDefaultAccount(cs, "team"))
		eventually(t, s.name+": kube-root-ca.crt", hasRootCA(cs, "team"))
	}
	for _, ns := range []string{"default", "kube-system"} {
		eventually(t, ns+": kube-root-ca.crt", hasRootCA(cs, ns))
	}
	// With the default account in place, pods of the new namespace are
	// admitted with the API access volume.
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
	out, err := cs.CoreV1().Pods("team").Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Spec.Volumes) != 1 || out.Spec.Volumes[0].Projected == nil {
		t.Fatalf("volumes = %+v", out.Spec.Volumes)
	}
}

func TestTerminatingNamespaceIsLeftAlone(t *testing.T) {
	cs := start(t) // no namespace controller: deleted namespaces stay Terminating
	ctx := context.Background()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "going"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "default service account", hasDefaultAccount(cs, "going"))
	if err := cs.CoreV1().Namespaces().Delete(ctx, "going", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cs.CoreV1().ServiceAccounts("going").Delete(ctx, DefaultName, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := cs.CoreV1().ServiceAccounts("going").Get(ctx, DefaultName, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("service account recreated in a terminating namespace: %v", err)
	}
}
