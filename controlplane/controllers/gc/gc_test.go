package gc

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	metadatafake "k8s.io/client-go/metadata/fake"
	clienttesting "k8s.io/client-go/testing"
)

var (
	deployments = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	replicasets = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}
	pods        = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
)

type obj struct {
	*metav1.PartialObjectMetadata
}

func newObj(apiVersion, kind, name string, owners ...*metav1.PartialObjectMetadata) obj {
	m := &metav1.PartialObjectMetadata{
		TypeMeta:   metav1.TypeMeta{APIVersion: apiVersion, Kind: kind},
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: types.UID(kind + "-" + name)},
	}
	for _, o := range owners {
		m.OwnerReferences = append(m.OwnerReferences, metav1.OwnerReference{
			APIVersion: o.APIVersion, Kind: o.Kind, Name: o.Name, UID: o.UID,
		})
	}
	return obj{m}
}

func (o obj) blocking() obj {
	for i := range o.OwnerReferences {
		t := true
		o.OwnerReferences[i].BlockOwnerDeletion = &t
	}
	return o
}

func (o obj) deleting(finalizers ...string) obj {
	now := metav1.Now()
	o.DeletionTimestamp = &now
	o.Finalizers = append(o.Finalizers, finalizers...)
	return o
}

// apiserverLike makes the fake metadata client delete as the apiserver
// does: a delete with a Foreground or Orphan policy adds its finalizer, an
// object with finalizers is only marked, and one marked whose last
// finalizer is patched away goes.
func apiserverLike(client *metadatafake.FakeMetadataClient) {
	tracker := client.Tracker()
	client.PrependReactor("delete", "*", func(a clienttesting.Action) (bool, runtime.Object, error) {
		da := a.(clienttesting.DeleteActionImpl)
		cur, err := tracker.Get(da.Resource, da.Namespace, da.Name)
		if err != nil {
			return true, nil, err
		}
		m := cur.(*metav1.PartialObjectMetadata).DeepCopy()
		if p := da.DeleteOptions.Preconditions; p != nil && p.UID != nil && *p.UID != m.UID {
			return true, nil, apierrors.NewConflict(da.Resource.GroupResource(), da.Name, nil)
		}
		if pp := da.DeleteOptions.PropagationPolicy; pp != nil {
			switch *pp {
			case metav1.DeletePropagationForeground:
				if !slices.Contains(m.Finalizers, metav1.FinalizerDeleteDependents) {
					m.Finalizers = append(m.Finalizers, metav1.FinalizerDeleteDependents)
				}
			case metav1.DeletePropagationOrphan:
				if !slices.Contains(m.Finalizers, metav1.FinalizerOrphanDependents) {
					m.Finalizers = append(m.Finalizers, metav1.FinalizerOrphanDependents)
				}
			}
		}
		if len(m.Finalizers) == 0 {
			return true, nil, tracker.Delete(da.Resource, da.Namespace, da.Name)
		}
		if m.DeletionTimestamp == nil {
			now := metav1.Now()
			m.DeletionTimestamp = &now
		}
		return true, nil, tracker.Update(da.Resource, m, da.Namespace)
	})
	react := clienttesting.ObjectReaction(tracker)
	client.PrependReactor("patch", "*", func(a clienttesting.Action) (bool, runtime.Object, error) {
		handled, out, err := react(a)
		if err != nil || out == nil {
			return handled, out, err
		}
		pa := a.(clienttesting.PatchActionImpl)
		m := out.(*metav1.PartialObjectMetadata)
		if m.DeletionTimestamp != nil && len(m.Finalizers) == 0 {
			return true, out, tracker.Delete(pa.Resource, pa.Namespace, pa.Name)
		}
		return handled, out, err
	})
}

func start(t *testing.T, objs ...obj) *metadatafake.FakeMetadataClient {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := metav1.AddMetaToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	var ros []runtime.Object
	for _, o := range objs {
		ros = append(ros, o.PartialObjectMetadata)
	}
	client := metadatafake.NewSimpleMetadataClient(scheme, ros...)
	apiserverLike(client)
	c, err := New(Config{Metadata: client, Workers: 2, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return client
}

func get(client *metadatafake.FakeMetadataClient, gvr schema.GroupVersionResource, name string) (*metav1.PartialObjectMetadata, bool) {
	m, err := client.Resource(gvr).Namespace("default").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		return nil, false
	}
	return m, true
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

func gone(client *metadatafake.FakeMetadataClient, gvr schema.GroupVersionResource, name string) func() bool {
	return func() bool { _, ok := get(client, gvr, name); return !ok }
}

func TestBackgroundCascade(t *testing.T) {
	d := newObj("apps/v1", "Deployment", "web")
	rs := newObj("apps/v1", "ReplicaSet", "web-1", d.PartialObjectMetadata)
	p1 := newObj("v1", "Pod", "web-1-a", rs.PartialObjectMetadata)
	p2 := newObj("v1", "Pod", "web-1-b", rs.PartialObjectMetadata)
	other := newObj("apps/v1", "Deployment", "other")
	shared := newObj("v1", "Pod", "shared", rs.PartialObjectMetadata, other.PartialObjectMetadata)
	keep := newObj("v1", "Pod", "keep", other.PartialObjectMetadata)
	client := start(t, d, rs, p1, p2, other, shared, keep)

	time.Sleep(100 * time.Millisecond)
	for _, n := range []string{"web-1-a", "web-1-b", "shared", "keep"} {
		if _, ok := get(client, pods, n); !ok {
			t.Fatalf("pod %s collected while its owner exists", n)
		}
	}
	if err := client.Resource(deployments).Namespace("default").Delete(context.Background(), "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "replicaset collected", gone(client, replicasets, "web-1"))
	eventually(t, "pod a collected", gone(client, pods, "web-1-a"))
	eventually(t, "pod b collected", gone(client, pods, "web-1-b"))
	eventually(t, "shared pod loses the dead owner", func() bool {
		m, ok := get(client, pods, "shared")
		return ok && len(m.OwnerReferences) == 1 && m.OwnerReferences[0].UID == other.UID
	})
	if _, ok := get(client, pods, "keep"); !ok {
		t.Error("pod keep collected")
	}
}

func TestDanglingAtStart(t *testing.T) {
	ghost := newObj("apps/v1", "ReplicaSet", "ghost")
	orphan := newObj("v1", "Pod", "orphan", ghost.PartialObjectMetadata)
	// An owner of the same name but another uid is not the owner.
	imposter := newObj("apps/v1", "ReplicaSet", "reborn")
	old := imposter.DeepCopy()
	old.UID = "old-uid"
	child := newObj("v1", "Pod", "child", old)
	unknown := newObj("v1", "Pod", "unknown-kind")
	unknown.OwnerReferences = []metav1.OwnerReference{{APIVersion: "example.com/v1", Kind: "Widget", Name: "w", UID: "w-uid"}}
	client := start(t, orphan, imposter, child, unknown)
	eventually(t, "orphan collected", gone(client, pods, "orphan"))
	eventually(t, "child of a replaced owner collected", gone(client, pods, "child"))
	if _, ok := get(client, pods, "unknown-kind"); !ok {
		t.Error("pod owned by an unserved kind was collected")
	}
}

func TestForeground(t *testing.T) {
	d := newObj("apps/v1", "Deployment", "web").deleting(metav1.FinalizerDeleteDependents)
	rs := newObj("apps/v1", "ReplicaSet", "web-1", d.PartialObjectMetadata).blocking()
	rs.Finalizers = []string{"example.com/hold"}
	p := newObj("v1", "Pod", "web-1-a", rs.PartialObjectMetadata).blocking()
	loose := newObj("v1", "Pod", "loose", d.PartialObjectMetadata) // does not block
	client := start(t, d, rs, p, loose)

	eventually(t, "pod of the replicaset collected", gone(client, pods, "web-1-a"))
	eventually(t, "non-blocking dependent collected", gone(client, pods, "loose"))
	eventually(t, "replicaset terminating without its own foreground finalizer", func() bool {
		m, ok := get(client, replicasets, "web-1")
		return ok && m.DeletionTimestamp != nil && slices.Equal(m.Finalizers, []string{"example.com/hold"})
	})
	time.Sleep(100 * time.Millisecond)
	if m, ok := get(client, deployments, "web"); !ok || !slices.Contains(m.Finalizers, metav1.FinalizerDeleteDependents) {
		t.Fatalf("deployment finished before its blocking replicaset was gone: %v", m)
	}
	m, _ := get(client, replicasets, "web-1")
	patch := `{"metadata":{"finalizers":null,"uid":"` + string(m.UID) + `"}}`
	if _, err := client.Resource(replicasets).Namespace("default").Patch(context.Background(), "web-1", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "replicaset gone", gone(client, replicasets, "web-1"))
	eventually(t, "deployment finalized and gone", gone(client, deployments, "web"))
}

func TestOrphan(t *testing.T) {
	rs := newObj("apps/v1", "ReplicaSet", "web-1").deleting(metav1.FinalizerOrphanDependents)
	other := newObj("apps/v1", "ReplicaSet", "other")
	p1 := newObj("v1", "Pod", "a", rs.PartialObjectMetadata)
	p2 := newObj("v1", "Pod", "b", rs.PartialObjectMetadata, other.PartialObjectMetadata)
	client := start(t, rs, other, p1, p2)
	eventually(t, "owner finalized and gone", gone(client, replicasets, "web-1"))
	a, ok := get(client, pods, "a")
	if !ok || len(a.OwnerReferences) != 0 {
		t.Errorf("pod a: present %v, owners %v", ok, a)
	}
	b, ok := get(client, pods, "b")
	if !ok || len(b.OwnerReferences) != 1 || b.OwnerReferences[0].UID != other.UID {
		t.Errorf("pod b: present %v, owners %v", ok, b)
	}
	time.Sleep(100 * time.Millisecond)
	if _, ok := get(client, pods, "a"); !ok {
		t.Error("orphaned pod a collected afterwards")
	}
}
