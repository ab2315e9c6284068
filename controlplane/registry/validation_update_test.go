package registry

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

// created returns obj as the REST layer would have stored it.
func created[T runtime.Object](t *testing.T, obj T) T {
	t.Helper()
	checkErrors(t, create(t, obj))
	return obj
}

func TestValidateUpdates(t *testing.T) {
	pod := created(t, validPod())
	svc := created(t, withService(func(s *corev1.Service) { s.Spec.ClusterIP = "10.96.0.7" }).(*corev1.Service))
	dep := created(t, validDeployment())
	ss := created(t, &appsv1.StatefulSet{ObjectMeta: meta("db"), Spec: appsv1.StatefulSetSpec{
		Selector: dep.Spec.Selector.DeepCopy(), Template: podTemplate(dep.Spec.Template.Labels),
	}})
	jobTmpl := podTemplate(nil)
	jobTmpl.Spec.RestartPolicy = corev1.RestartPolicyNever
	job := created(t, &batchv1.Job{ObjectMeta: meta("pi"), Spec: batchv1.JobSpec{Template: jobTmpl}})
	cm := created(t, &corev1.ConfigMap{ObjectMeta: meta("cfg"), Data: map[string]string{"a": "1"}, Immutable: ptr.To(true)})
	sec := created(t, &corev1.Secret{ObjectMeta: meta("s"), Data: map[string][]byte{"a": []byte("1")}})

	for _, tc := range []struct {
		name   string
		old    runtime.Object
		change func(runtime.Object)
		want   []wantErr
	}{
		{"pod image may change", pod, func(o runtime.Object) { o.(*corev1.Pod).Spec.Containers[0].Image = "nginx:1.28" }, nil},
		{"pod toleration may be added", pod, func(o runtime.Object) {
			p := o.(*corev1.Pod)
			p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: "k", Operator: corev1.TolerationOpExists})
		}, nil},
		{"pod spec is otherwise immutable", pod, func(o runtime.Object) { o.(*corev1.Pod).Spec.RestartPolicy = corev1.RestartPolicyNever },
			[]wantErr{{"spec", forbidden, "pod updates may not change fields other than `spec.containers[*].image`"}}},
		{"pod containers may not be added", pod, func(o runtime.Object) {
			p := o.(*corev1.Pod)
			p.Spec.Containers = append(p.Spec.Containers, container("side", "busybox"))
		}, []wantErr{{"spec.containers", forbidden, "pod updates may not add or remove containers"}}},
		{"name is immutable", pod, func(o runtime.Object) { o.(*corev1.Pod).Name = "other" },
			[]wantErr{{"metadata.name", invalidValue, "field is immutable"}}},
		{"resourceVersion is required", pod, func(o runtime.Object) { o.(*corev1.Pod).ResourceVersion = "" },
			[]wantErr{{"metadata.resourceVersion", invalidValue, "must be specified for an update"}}},
		{"cluster IP is immutable", svc, func(o runtime.Object) {
			s := o.(*corev1.Service)
			s.Spec.ClusterIP, s.Spec.ClusterIPs = "10.96.0.8", []string{"10.96.0.8"}
		}, []wantErr{{"spec.clusterIP", invalidValue, "field is immutable"}}},
		{"deployment selector is immutable", dep, func(o runtime.Object) {
			o.(*appsv1.Deployment).Spec.Selector.MatchLabels["tier"] = "front"
			o.(*appsv1.Deployment).Spec.Template.Labels["tier"] = "front"
		}, []wantErr{{"spec.selector", invalidValue, "field is immutable"}}},
		{"deployment scale", dep, func(o runtime.Object) { o.(*appsv1.Deployment).Spec.Replicas = ptr.To[int32](5) }, nil},
		{"statefulset service name", ss, func(o runtime.Object) { o.(*appsv1.StatefulSet).Spec.ServiceName = "db" },
			[]wantErr{{"spec", forbidden, "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template'"}}},
		{"statefulset template", ss, func(o runtime.Object) { o.(*appsv1.StatefulSet).Spec.Template.Spec.Containers[0].Image = "x:2" }, nil},
		{"job template is immutable", job, func(o runtime.Object) { o.(*batchv1.Job).Spec.Template.Spec.Containers[0].Image = "x:2" },
			[]wantErr{{"spec.template", invalidValue, "field is immutable"}}},
		{"job selector is immutable", job, func(o runtime.Object) {
			j := o.(*batchv1.Job)
			j.Spec.Selector.MatchLabels["x"] = "y"
			j.Spec.Template.Labels["x"] = "y"
		}, []wantErr{{"spec.selector", invalidValue, "field is immutable"}}},
		{"immutable configmap", cm, func(o runtime.Object) { o.(*corev1.ConfigMap).Data["a"] = "2" },
			[]wantErr{{"data", forbidden, "field is immutable when `immutable` is set"}}},
		{"secret type", sec, func(o runtime.Object) { o.(*corev1.Secret).Type = corev1.SecretTypeBasicAuth },
			[]wantErr{{"type", invalidValue, "field is immutable"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := tc.old.DeepCopyObject()
			tc.change(obj)
			checkErrors(t, update(t, obj, tc.old), tc.want...)
		})
	}
}

func TestStatusUpdateValidation(t *testing.T) {
	ns := created(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a", ResourceVersion: "1"}})
	s := strategyOf(t, ns)
	upd := ns.DeepCopy()
	upd.Status.Phase = corev1.NamespaceTerminating
	s.PrepareForStatusUpdate(upd, ns)
	checkErrors(t, s.(StatusValidator).ValidateStatusUpdate(upd, ns),
		wantErr{"status.phase", invalidValue, "may only be 'Active' if `deletionTimestamp` is empty"})

	pod := created(t, validPod())
	ps := strategyOf(t, pod)
	st := pod.DeepCopy()
	st.Status.PodIP, st.Status.PodIPs = "10.244.1.5", []corev1.PodIP{{IP: "10.244.1.5"}}
	st.Spec.NodeName = "sneaky"
	ps.PrepareForStatusUpdate(st, pod)
	checkErrors(t, ps.(StatusValidator).ValidateStatusUpdate(st, pod))
	if st.Spec.NodeName != "" || st.Status.PodIP != "10.244.1.5" {
		t.Errorf("status update: nodeName %q, podIP %q", st.Spec.NodeName, st.Status.PodIP)
	}
}
