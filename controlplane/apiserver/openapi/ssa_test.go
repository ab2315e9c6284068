package openapi

import (
	"fmt"

	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

func TestTypeConverterTypedObjects(t *testing.T) {
	t.Parallel()
	tc := newTestSpec(t).TypeConverter()
	pod := &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default", Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "web", Image: "nginx",
			Ports: []corev1.ContainerPort{{ContainerPort: 80, Protocol: corev1.ProtocolTCP}},
		}}},
	}
	deploy := testDeployment(2)
	for _, obj := range []runtime.Object{pod, deploy} {
		tv, err := tc.ObjectToTyped(obj)
		if err != nil {
			t.Fatalf("ObjectToTyped(%T): %v", obj, err)
		}
		if _, err := tc.TypedToObject(tv); err != nil {
			t.Fatalf("TypedToObject(%T): %v", obj, err)
		}
	}
}

func testDeployment(replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": "web"}
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}},
			},
		},
	}
}

func applyPatch(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatalf("patch: %v", err)
	}
	return u
}

const deployApply = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: %d
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx}]
`

func TestFieldManagerApplyConflict(t *testing.T) {
	t.Parallel()
	s := newTestSpec(t)
	gvk := appsv1.SchemeGroupVersion.WithKind("Deployment")
	fm, err := s.FieldManager(gvk, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	empty := &appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"}}
	live, err := fm.Apply(empty, applyPatch(t, fmt.Sprintf(deployApply, 3)), "alice", false)
	if err != nil {
		t.Fatalf("first apply: %v", err)
	}
	if got := *asDeployment(t, live).Spec.Replicas; got != 3 {
		t.Fatalf("replicas after alice's apply = %d, want 3", got)
	}
	_, err = fm.Apply(live, applyPatch(t, fmt.Sprintf(deployApply, 5)), "bob", false)
	if !apierrors.IsConflict(err) {
		t.Fatalf("bob's apply without force: err = %v, want a conflict", err)
	}
	forced, err := fm.Apply(live, applyPatch(t, fmt.Sprintf(deployApply, 5)), "bob", true)
	if err != nil {
		t.Fatalf("forced apply: %v", err)
	}
	d := asDeployment(t, forced)
	if *d.Spec.Replicas != 5 || !hasManager(d.ManagedFields, "bob", metav1.ManagedFieldsOperationApply) {
		t.Fatalf("after forced apply: replicas %d, managedFields %+v", *d.Spec.Replicas, d.ManagedFields)
	}
}

func TestFieldManagerUpdate(t *testing.T) {
	t.Parallel()
	s := newTestSpec(t)
	fm, err := s.FieldManager(appsv1.SchemeGroupVersion.WithKind("Deployment"), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	live := testDeployment(1)
	updated := testDeployment(4)
	out, err := fm.Update(live, updated, "kubectl-edit")
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	d := asDeployment(t, out)
	if !hasManager(d.ManagedFields, "kubectl-edit", metav1.ManagedFieldsOperationUpdate) {
		t.Fatalf("managedFields %+v lack kubectl-edit's Update", d.ManagedFields)
	}
}

func asDeployment(t *testing.T, obj runtime.Object) *appsv1.Deployment {
	t.Helper()
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return o
	case *unstructured.Unstructured:
		d := &appsv1.Deployment{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	t.Fatalf("unexpected object %T", obj)
	return nil
}

func hasManager(entries []metav1.ManagedFieldsEntry, manager string, op metav1.ManagedFieldsOperationType) bool {
	for _, e := range entries {
		if e.Manager == manager && e.Operation == op {
			return true
		}
	}
	return false
}
