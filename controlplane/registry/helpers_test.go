package registry

import (
	"strings"
	"testing"

	"rudder/controlplane/catalog"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// strategyOf returns the strategy of obj's Go type, found through the
// catalog's scheme.
func strategyOf(t *testing.T, obj runtime.Object) Strategy {
	t.Helper()
	gvks, _, err := catalog.NewScheme().ObjectKinds(obj)
	if err != nil {
		t.Fatalf("kind of %T: %v", obj, err)
	}
	return For(gvks[0].GroupKind())
}

func mustQty(s string) resource.Quantity { return resource.MustParse(s) }

// create runs what the REST layer runs on create and returns the errors.
func create(t *testing.T, obj runtime.Object) field.ErrorList {
	t.Helper()
	s := strategyOf(t, obj)
	s.Default(obj)
	s.PrepareForCreate(obj)
	return s.Validate(obj)
}

// update runs what the REST layer runs on update of the main resource.
func update(t *testing.T, obj, old runtime.Object) field.ErrorList {
	t.Helper()
	s := strategyOf(t, obj)
	s.Default(obj)
	s.PrepareForUpdate(obj, old)
	return s.ValidateUpdate(obj, old)
}

// wantErr is one expected error: its field path, type and a piece of its
// detail.
type wantErr struct {
	field  string
	typ    field.ErrorType
	detail string
}

// checkErrors fails unless every wanted error is in errs and, when want is
// empty, errs is empty too.
func checkErrors(t *testing.T, errs field.ErrorList, want ...wantErr) {
	t.Helper()
	if len(want) == 0 && len(errs) > 0 {
		t.Fatalf("unexpected errors: %v", errs)
	}
	for _, w := range want {
		if !hasError(errs, w) {
			t.Errorf("missing error %s %s %q in:\n%v", w.field, w.typ, w.detail, errs.ToAggregate())
		}
	}
}

func hasError(errs field.ErrorList, w wantErr) bool {
	for _, e := range errs {
		if e.Field == w.field && e.Type == w.typ && strings.Contains(e.Detail, w.detail) {
			return true
		}
	}
	return false
}

func meta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name), ResourceVersion: "1"}
}

func container(name, image string) corev1.Container {
	return corev1.Container{Name: name, Image: image}
}

func validPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: meta("web"),
		Spec:       corev1.PodSpec{Containers: []corev1.Container{container("app", "nginx:1.27")}},
	}
}

func podTemplate(labels map[string]string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{container("app", "nginx")}},
	}
}

func validDeployment() *appsv1.Deployment {
	l := map[string]string{"app": "web"}
	return &appsv1.Deployment{
		ObjectMeta: meta("web"),
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: l},
			Template: podTemplate(l),
		},
	}
}
