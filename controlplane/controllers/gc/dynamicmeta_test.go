package gc

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	dynamicfake "k8s.io/client-go/dynamic/fake"
)

func TestDynamicMetadataKeepsOwnersAndFinalizers(t *testing.T) {
	now := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{
			"name": "p", "namespace": "default", "uid": "u1",
			"finalizers":        []any{"example.com/hold"},
			"deletionTimestamp": now.UTC().Format(time.RFC3339),
			"ownerReferences": []any{map[string]any{
				"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "u0", "blockOwnerDeletion": true,
			}},
		},
		"spec": map[string]any{"nodeName": "n1"},
	}}
	client := DynamicMetadata(dynamicfake.NewSimpleDynamicClient(runtime.NewScheme(), u))
	check := func(how string, m *metav1.PartialObjectMetadata) {
		t.Helper()
		if m.Name != "p" || m.UID != "u1" || len(m.Finalizers) != 1 || m.DeletionTimestamp == nil || !m.DeletionTimestamp.Equal(&now) ||
			len(m.OwnerReferences) != 1 || m.OwnerReferences[0].UID != "u0" || !*m.OwnerReferences[0].BlockOwnerDeletion {
			t.Errorf("%s: %+v", how, m.ObjectMeta)
		}
		if m.Kind != "Pod" || m.APIVersion != "v1" {
			t.Errorf("%s: type %v", how, m.TypeMeta)
		}
	}
	ctx := context.Background()
	got, err := client.Resource(pods).Namespace("default").Get(ctx, "p", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	check("get", got)
	list, err := client.Resource(pods).Namespace("default").List(ctx, metav1.ListOptions{})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("list: %v %v", list, err)
	}
	check("list", &list.Items[0])
	w, err := client.Resource(pods).Namespace("default").Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	patched, err := client.Resource(pods).Namespace("default").Patch(ctx, "p", "application/merge-patch+json",
		[]byte(`{"metadata":{"labels":{"a":"b"}}}`), metav1.PatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	check("patch", patched)
	deadline := time.After(5 * time.Second)
	for { // the fake may replay the object as ADDED first
		select {
		case ev := <-w.ResultChan():
			m, ok := ev.Object.(*metav1.PartialObjectMetadata)
			if !ok {
				t.Fatalf("watch event object %T", ev.Object)
			}
			check("watch", m)
			if ev.Type != watch.Modified {
				continue
			}
			if m.Labels["a"] != "b" {
				t.Errorf("watch: labels %v", m.Labels)
			}
			return
		case <-deadline:
			t.Fatal("no watch event")
		}
	}
}
