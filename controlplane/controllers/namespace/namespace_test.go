package namespace

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	metadatafake "k8s.io/client-go/metadata/fake"
	clienttesting "k8s.io/client-go/testing"
)

var (
	podsGVR       = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	configmapsGVR = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
)

func object(apiVersion, kind, ns, name string, finalizers ...string) *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{
		TypeMeta: metav1.TypeMeta{APIVersion: apiVersion, Kind: kind},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(ns + "-" + name),
			Finalizers: finalizers},
	}
}

// finalizingDeletes makes the fake metadata client keep an object with
// finalizers, marked for deletion, as the apiserver does, and remove it
// when a patch takes its last finalizer away.
func finalizingDeletes(client *metadatafake.FakeMetadataClient) {
	tracker := client.Tracker()
	client.PrependReactor("delete", "*", func(a clienttesting.Action) (bool, runtime.Object, error) {
		da := a.(clienttesting.DeleteActionImpl)
		cur, err := tracker.Get(da.Resource, da.Namespace, da.Name)
		if err != nil {
			return true, nil, err
		}
		m := cur.(*metav1.PartialObjectMetadata).DeepCopy()
		if len(m.Finalizers) == 0 {
			return true, nil, tracker.Delete(da.Resource, da.Namespace, da.Name)
		}
		now := metav1.Now()
		m.DeletionTimestamp = &now
		return true, nil, tracker.Update(da.Resource, m, da.Namespace)
	})
	react := clienttesting.ObjectReaction(tracker)
	client.PrependReactor("patch", "*", func(a clienttesting.Action) (bool, runtime.Object, error) {
		handled, out, err := react(a)
		if m, ok := out.(*metav1.PartialObjectMetadata); ok && err == nil && m.DeletionTimestamp != nil && len(m.Finalizers) == 0 {
			pa := a.(clienttesting.PatchActionImpl)
			return true, out, tracker.Delete(pa.Resource, pa.Namespace, pa.Name)
		}
		return handled, out, err
	})
}

func terminating(name string) *corev1.Namespace {
	now := metav1.Now()
	return &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: name, DeletionTimestamp: &now, Finalizers: []string{}},
		Spec:       corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{corev1.FinalizerKubernetes}},
		Status:     corev1.NamespaceStatus{Phase: corev1.NamespaceActive},
	}
}

func start(t *testing.T, namespaces []runtime.Object, objs ...*metav1.PartialObjectMetadata) (*fake.Clientset, *metadatafake.FakeMetadataClient) {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := metav1.AddMetaToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	var ros []runtime.Object
	for _, o := range objs {
		ros = append(ros, o)
	}
	mc := metadatafake.NewSimpleMetadataClient(scheme, ros...)
	finalizingDeletes(mc)
	client := fake.NewClientset(namespaces...)
	inf := informers.NewSharedInformerFactory(client, 0)
	c, err := New(Config{Client: client, Metadata: mc, Informers: inf, Recheck: 20 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	inf.Start(ctx.Done())
	go func() { defer close(done); _ = c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; inf.Shutdown() })
	return client, mc
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func condition(ns *corev1.Namespace, typ corev1.NamespaceConditionType) corev1.NamespaceCondition {
	for _, c := range ns.Status.Conditions {
		if c.Type == typ {
			return c
		}
	}
	return corev1.NamespaceCondition{}
}

func TestTerminatingNamespaceIsEmptiedThenFinalized(t *testing.T) {
	client, mc := start(t, []runtime.Object{terminating("doomed"), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "live"}}},
		object("v1", "Pod", "doomed", "web", "example.com/hold"),
		object("v1", "Pod", "doomed", "db"),
		object("v1", "ConfigMap", "doomed", "cfg"),
		object("v1", "Pod", "live", "keep"),
	)
	ctx := context.Background()
	getNS := func(name string) *corev1.Namespace {
		ns, err := client.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return ns
	}
	exists := func(gvr schema.GroupVersionResource, ns, name string) bool {
		_, err := mc.Resource(gvr).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
		return err == nil
	}

	eventually(t, "content remaining reported", func() bool {
		c := condition(getNS("doomed"), corev1.NamespaceContentRemaining)
		return c.Status == corev1.ConditionTrue
	})
	ns := getNS("doomed")
	if c := condition(ns, corev1.NamespaceContentRemaining); c.Reason != "SomeResourcesRemain" || c.Message != "Some resources are remaining: pods. has 1 resource instances" {
		t.Errorf("NamespaceContentRemaining %+v", c)
	}
	if c := condition(ns, corev1.NamespaceFinalizersRemaining); c.Status != corev1.ConditionTrue || c.Message != "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances" {
		t.Errorf("NamespaceFinalizersRemaining %+v", c)
	}
	if c := condition(ns, corev1.NamespaceDeletionContentFailure); c.Status != corev1.ConditionFalse || c.Reason != "ContentDeleted" {
		t.Errorf("NamespaceDeletionContentFailure %+v", c)
	}
	if ns.Status.Phase != corev1.NamespaceTerminating {
		t.Errorf("phase %s", ns.Status.Phase)
	}
	if !slices.Contains(ns.Spec.Finalizers, corev1.FinalizerKubernetes) {
		t.Fatal("finalized with content left")
	}
	if exists(podsGVR, "doomed", "db") || exists(configmapsGVR, "doomed", "cfg") {
		t.Error("content without finalizers not deleted")
	}
	if !exists(podsGVR, "live", "keep") {
		t.Error("a pod of another namespace was deleted")
	}

	// The holder lets go; the namespace is finalized.
	if _, err := mc.Resource(podsGVR).Namespace("doomed").Patch(ctx, "web", types.MergePatchType,
		[]byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "namespace finalized", func() bool { return len(getNS("doomed").Spec.Finalizers) == 0 })
	ns = getNS("doomed")
	if c := condition(ns, corev1.NamespaceContentRemaining); c.Status != corev1.ConditionFalse || c.Reason != "ContentRemoved" {
		t.Errorf("NamespaceContentRemaining after emptying %+v", c)
	}
	if len(getNS("live").Spec.Finalizers) != 0 || getNS("live").Status.Phase == corev1.NamespaceTerminating {
		t.Error("live namespace touched")
	}
	// The finalize subresource was used.
	var finalized bool
	for _, a := range client.Actions() {
		if a.GetSubresource() == "finalize" { // the fake records it as a create
			finalized = true
		}
	}
	if !finalized {
		t.Error("no update of namespaces/finalize")
	}
}

func TestConditionsKeepTransitionTime(t *testing.T) {
	t1 := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	t2 := metav1.NewTime(t1.Add(time.Minute))
	first := conditions(content{remaining: map[string]int{"pods.": 2}}, t1)
	second, changed := mergeConditions(first, conditions(content{remaining: map[string]int{"pods.": 2}}, t2))
	if changed {
		t.Error("same content reported as a change")
	}
	third, changed := mergeConditions(second, conditions(content{remaining: map[string]int{"pods.": 1}}, t2))
	if !changed {
		t.Error("new count not reported")
	}
	for _, c := range third {
		if !c.LastTransitionTime.Equal(&t1) {
			t.Errorf("%s transition time moved to %v without a status change", c.Type, c.LastTransitionTime)
		}
	}
}
