package gc

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"rudder/controlplane/apiserver"
	"rudder/controlplane/apiserver/authn"
	"rudder/controlplane/storage/bolt"
)

// realServer starts rudder's apiserver, with its own owner-finalizer
// handling switched off, and a collector against it.
func realServer(t *testing.T) kubernetes.Interface {
	t.Helper()
	store, err := bolt.Open(bolt.Config{Path: filepath.Join(t.TempDir(), "state.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	_, svcNet, _ := net.ParseCIDR("10.96.0.0/12")
	const token = "test-token"
	api, err := apiserver.New(apiserver.Config{
		Store:         store,
		Authenticator: &authn.Authenticator{Tokens: authn.Tokens{token: {Name: "tester", Groups: []string{"system:masters"}}}},
		ServiceCIDR:   svcNet, NodePortBase: 30000, NodePortSize: 2768,
		AdvertiseAddress: net.IPv4(127, 0, 0, 1), Port: 6443,
		Version:          version.Info{Major: "1", Minor: "33", GitVersion: "v1.33.0+rudder"},
		GarbageCollector: true,
		Logger:           slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := api.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.Handler())
	cfg := &rest.Config{Host: srv.URL, BearerToken: token}
	// JSON: a protobuf DeleteOptions body is refused by the server today.
	jsonCfg := rest.CopyConfig(cfg)
	jsonCfg.ContentType = "application/json"
	client, err := kubernetes.NewForConfig(jsonCfg)
	if err != nil {
		t.Fatal(err)
	}
	// The dynamic stand-in: rudder's PartialObjectMetadata answers lack
	// ownerReferences and finalizers (see DynamicMetadata).
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mc := DynamicMetadata(dyn)
	gc, err := New(Config{Metadata: mc, Workers: 2, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = gc.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; srv.Close() })
	return client
}

// family creates a Deployment, a ReplicaSet it controls and two pods of
// that ReplicaSet (unscheduled, so that they go at once when deleted).
func family(t *testing.T, client kubernetes.Interface, name string) (*appsv1.Deployment, *appsv1.ReplicaSet) {
	t.Helper()
	ctx := context.Background()
	labels := map[string]string{"app": name}
	tmpl := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}
	d, err := client.AppsV1().Deployments("default").Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tmpl},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	rs, err := client.AppsV1().ReplicaSets("default").Create(ctx, &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-1", OwnerReferences: []metav1.OwnerReference{{
			APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name, UID: d.UID, Controller: &yes, BlockOwnerDeletion: &yes,
		}}},
		Spec: appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tmpl},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		_, err := client.CoreV1().Pods("default").Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-1-%d", name, i), Labels: labels, OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: &yes, BlockOwnerDeletion: &yes,
			}}},
			Spec: tmpl.Spec,
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
	}
	return d, rs
}

func podsLeft(t *testing.T, client kubernetes.Interface, app string) int {
	t.Helper()
	l, err := client.CoreV1().Pods("default").List(context.Background(), metav1.ListOptions{LabelSelector: "app=" + app})
	if err != nil {
		t.Fatal(err)
	}
	return len(l.Items)
}

func TestAgainstAPIServer(t *testing.T) {
	client := realServer(t)
	ctx := context.Background()
	rsGone := func(name string) func() bool {
		return func() bool {
			_, err := client.AppsV1().ReplicaSets("default").Get(ctx, name, metav1.GetOptions{})
			return apierrors.IsNotFound(err)
		}
	}
	deployGone := func(name string) func() bool {
		return func() bool {
			_, err := client.AppsV1().Deployments("default").Get(ctx, name, metav1.GetOptions{})
			return apierrors.IsNotFound(err)
		}
	}
	del := func(name string, policy metav1.DeletionPropagation) {
		if err := client.AppsV1().Deployments("default").Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: &policy}); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("background", func(t *testing.T) {
		_, rs := family(t, client, "bg")
		time.Sleep(200 * time.Millisecond)
		if podsLeft(t, client, "bg") != 2 {
			t.Fatal("pods collected while their owners live")
		}
		del("bg", metav1.DeletePropagationBackground)
		eventually(t, "replicaset collected", rsGone(rs.Name))
		eventually(t, "pods collected", func() bool { return podsLeft(t, client, "bg") == 0 })
	})
	t.Run("foreground", func(t *testing.T) {
		_, rs := family(t, client, "fg")
		del("fg", metav1.DeletePropagationForeground)
		eventually(t, "deployment gone", deployGone("fg"))
		// Foreground: nothing of the family may outlive the deployment.
		if !rsGone(rs.Name)() || podsLeft(t, client, "fg") != 0 {
			t.Errorf("deployment went before its dependents: rs gone %v, pods %d", rsGone(rs.Name)(), podsLeft(t, client, "fg"))
		}
	})
	t.Run("orphan", func(t *testing.T) {
		_, rs := family(t, client, "or")
		del("or", metav1.DeletePropagationOrphan)
		eventually(t, "deployment gone", deployGone("or"))
		got, err := client.AppsV1().ReplicaSets("default").Get(ctx, rs.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("orphaned replicaset: %v", err)
		}
		if len(got.OwnerReferences) != 0 {
			t.Errorf("orphaned replicaset keeps owners %v", got.OwnerReferences)
		}
		time.Sleep(200 * time.Millisecond)
		if podsLeft(t, client, "or") != 2 {
			t.Error("pods of an orphaned replicaset collected")
		}
	})
}
