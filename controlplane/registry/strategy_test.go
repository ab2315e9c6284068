package registry

import (
	"testing"

	"rudder/controlplane/catalog"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
)

// TestEveryServedKind drives every strategy through every method with an
// empty object of its kind: nothing may panic (the reflection on Spec and
// Status must fit every type), and kinds with a status subresource must
// have a StatusValidator.
func TestEveryServedKind(t *testing.T) {
	scheme := catalog.NewScheme()
	for _, r := range catalog.Resources() {
		t.Run(r.GroupVersionResource.String(), func(t *testing.T) {
			s := For(r.GVK().GroupKind())
			newObj := func() runtime.Object {
				obj, err := scheme.New(r.GVK())
				if err != nil {
					t.Fatal(err)
				}
				return obj
			}
			obj, old := newObj(), newObj()
			s.Default(obj)
			s.PrepareForCreate(obj)
			if errs := s.Validate(obj); len(errs) == 0 {
				t.Errorf("empty %s validated", r.Kind)
			}
			s.PrepareForUpdate(obj, old)
			s.ValidateUpdate(obj, old)
			if r.HasStatus() {
				s.PrepareForStatusUpdate(obj, old)
				if _, ok := s.(StatusValidator); !ok {
					t.Errorf("%s has a status subresource but no StatusValidator", r.Kind)
				}
			}
		})
	}
	if _, ok := strategies()[schema.GroupKind{Kind: "Namespace"}].(FinalizeStrategy); !ok {
		t.Error("the Namespace strategy is not a FinalizeStrategy")
	}
}

func TestWrongTypeIsHarmless(t *testing.T) {
	s := For(schema.GroupKind{Kind: "Pod"})
	svc := &corev1.Service{}
	s.Default(svc)
	s.PrepareForCreate(svc)
	if errs := s.Validate(svc); len(errs) != 1 {
		t.Fatalf("Validate(wrong type) = %v", errs)
	}
}

func TestPodPrepareForCreate(t *testing.T) {
	pod := validPod()
	pod.Status.Phase = corev1.PodRunning
	pod.Spec.Containers[0].Resources.Limits = corev1.ResourceList{"cpu": mustQty("1"), "memory": mustQty("1Gi")}
	pod.Spec.Tolerations = []corev1.Toleration{{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists}}
	checkErrors(t, create(t, pod))
	if pod.Status.Phase != corev1.PodPending || pod.Status.QOSClass != corev1.PodQOSGuaranteed {
		t.Errorf("status = %+v, want Pending/Guaranteed", pod.Status)
	}
	if pod.Generation != 1 {
		t.Errorf("generation = %d", pod.Generation)
	}
	if n := len(pod.Spec.Tolerations); n != 2 {
		t.Fatalf("tolerations = %+v, want the given one plus not-ready", pod.Spec.Tolerations)
	}
	nr := pod.Spec.Tolerations[1]
	if nr.Key != corev1.TaintNodeNotReady || nr.Effect != corev1.TaintEffectNoExecute || *nr.TolerationSeconds != 300 {
		t.Errorf("added toleration = %+v", nr)
	}
	if *pod.Spec.Priority != 0 || *pod.Spec.PreemptionPolicy != corev1.PreemptLowerPriority || pod.Spec.ServiceAccountName != "default" {
		t.Errorf("priority/preemption/serviceAccount = %v/%v/%q", *pod.Spec.Priority, *pod.Spec.PreemptionPolicy, pod.Spec.ServiceAccountName)
	}
}

func TestPodQOS(t *testing.T) {
	cpu := corev1.ResourceList{"cpu": mustQty("100m")}
	both := corev1.ResourceList{"cpu": mustQty("100m"), "memory": mustQty("64Mi")}
	for _, tc := range []struct {
		name string
		res  []corev1.ResourceRequirements
		want corev1.PodQOSClass
	}{
		{"none", []corev1.ResourceRequirements{{}}, corev1.PodQOSBestEffort},
		{"requests only", []corev1.ResourceRequirements{{Requests: cpu}}, corev1.PodQOSBurstable},
		{"limits equal requests", []corev1.ResourceRequirements{{Requests: both, Limits: both}}, corev1.PodQOSGuaranteed},
		{"one container unlimited", []corev1.ResourceRequirements{{Requests: both, Limits: both}, {}}, corev1.PodQOSBurstable},
		{"cpu limit only", []corev1.ResourceRequirements{{Requests: cpu, Limits: cpu}}, corev1.PodQOSBurstable},
	} {
		spec := corev1.PodSpec{}
		for _, r := range tc.res {
			spec.Containers = append(spec.Containers, corev1.Container{Resources: r})
		}
		if got := podQOS(&spec); got != tc.want {
			t.Errorf("%s: QoS %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestGenerationAndStatus(t *testing.T) {
	s := For(schema.GroupKind{Group: "apps", Kind: "Deployment"})
	d := validDeployment()
	d.Status.Replicas = 5
	s.Default(d)
	s.PrepareForCreate(d)
	if d.Generation != 1 || d.Status.Replicas != 0 {
		t.Fatalf("after create: generation %d, status %+v", d.Generation, d.Status)
	}
	old := d.DeepCopy()
	old.Status.Replicas = 3

	same := old.DeepCopy()
	same.Status.Replicas = 9
	same.Generation = 7
	s.PrepareForUpdate(same, old)
	if same.Generation != 1 || same.Status.Replicas != 3 {
		t.Errorf("no spec change: generation %d (want 1), status.replicas %d (want old's 3)", same.Generation, same.Status.Replicas)
	}

	scaled := old.DeepCopy()
	scaled.Spec.Replicas = ptr.To[int32](4)
	s.PrepareForUpdate(scaled, old)
	if scaled.Generation != 2 {
		t.Errorf("spec change: generation %d, want 2", scaled.Generation)
	}

	st := old.DeepCopy()
	st.Spec.Replicas = ptr.To[int32](40)
	st.Labels = map[string]string{"x": "y"}
	st.Status.Replicas = 4
	st.ResourceVersion = "77"
	s.PrepareForStatusUpdate(st, old)
	if *st.Spec.Replicas != *old.Spec.Replicas || st.Labels != nil || st.Status.Replicas != 4 || st.ResourceVersion != "77" {
		t.Errorf("status update: spec.replicas %d, labels %v, status.replicas %d, rv %s", *st.Spec.Replicas, st.Labels, st.Status.Replicas, st.ResourceVersion)
	}
}

func TestNamespaceStrategy(t *testing.T) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a"}}
	checkErrors(t, create(t, ns))
	if ns.Status.Phase != corev1.NamespaceActive || len(ns.Spec.Finalizers) != 1 || ns.Spec.Finalizers[0] != "kubernetes" {
		t.Errorf("created namespace = %+v / %+v", ns.Spec, ns.Status)
	}
	if ns.Labels[corev1.LabelMetadataName] != "team-a" {
		t.Errorf("labels = %v", ns.Labels)
	}
	old := ns.DeepCopy()
	old.ResourceVersion = "1"
	upd := old.DeepCopy()
	upd.Spec.Finalizers = nil
	checkErrors(t, update(t, upd, old))
	if len(upd.Spec.Finalizers) != 1 {
		t.Errorf("main-resource update changed finalizers: %v", upd.Spec.Finalizers)
	}
	fin := For(schema.GroupKind{Kind: "Namespace"}).(FinalizeStrategy)
	upd = old.DeepCopy()
	upd.Spec.Finalizers = nil
	upd.Labels = map[string]string{"sneaky": "yes"}
	fin.PrepareForFinalizeUpdate(upd, old)
	if len(upd.Spec.Finalizers) != 0 || upd.Labels["sneaky"] != "" {
		t.Errorf("finalize: finalizers %v, labels %v", upd.Spec.Finalizers, upd.Labels)
	}
}

func TestJobSelectorGeneration(t *testing.T) {
	job := &batchv1.Job{ObjectMeta: meta("pi"), Spec: batchv1.JobSpec{Template: podTemplate(nil)}}
	job.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever
	checkErrors(t, create(t, job))
	uid := string(job.UID)
	want := map[string]string{"job-name": "pi", batchv1.JobNameLabel: "pi", "controller-uid": uid, batchv1.ControllerUidLabel: uid}
	for k, v := range want {
		if job.Spec.Template.Labels[k] != v {
			t.Errorf("template label %s = %q, want %q", k, job.Spec.Template.Labels[k], v)
		}
	}
	if job.Spec.Selector.MatchLabels[batchv1.ControllerUidLabel] != uid || len(job.Spec.Selector.MatchLabels) != 1 {
		t.Errorf("selector = %v", job.Spec.Selector)
	}

	noUID := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "pi", Namespace: "default"}, Spec: batchv1.JobSpec{Template: podTemplate(nil)}}
	noUID.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever
	checkErrors(t, create(t, noUID), wantErr{"spec.selector", "FieldValueRequired", ""})
}

func TestDaemonSetTemplateGeneration(t *testing.T) {
	l := map[string]string{"app": "agent"}
	ds := &appsv1.DaemonSet{ObjectMeta: meta("agent"), Spec: appsv1.DaemonSetSpec{
		Selector: &metav1.LabelSelector{MatchLabels: l}, Template: podTemplate(l),
	}}
	checkErrors(t, create(t, ds))
	if ds.Annotations[daemonSetTemplateGeneration] != "1" {
		t.Fatalf("annotations = %v", ds.Annotations)
	}
	upd := ds.DeepCopy()
	upd.Spec.Template.Spec.Containers[0].Image = "agent:2"
	checkErrors(t, update(t, upd, ds))
	if upd.Annotations[daemonSetTemplateGeneration] != "2" || upd.Generation != 2 {
		t.Errorf("after template change: annotations %v, generation %d", upd.Annotations, upd.Generation)
	}
}

func TestServiceUpdateKeepsAllocatedValues(t *testing.T) {
	old := &corev1.Service{ObjectMeta: meta("web"), Spec: corev1.ServiceSpec{
		Type: corev1.ServiceTypeNodePort, Selector: map[string]string{"app": "web"},
		Ports: []corev1.ServicePort{{Name: "http", Port: 80}},
	}}
	For(schema.GroupKind{Kind: "Service"}).Default(old)
	old.Spec.ClusterIP, old.Spec.ClusterIPs = "10.96.0.42", []string{"10.96.0.42"}
	old.Spec.Ports[0].NodePort = 30080

	resubmit := old.DeepCopy() // the client's YAML again, without the allocated values
	resubmit.Spec.ClusterIP, resubmit.Spec.ClusterIPs = "", nil
	resubmit.Spec.Ports[0].NodePort = 0
	checkErrors(t, update(t, resubmit, old))
	if resubmit.Spec.ClusterIP != "10.96.0.42" || resubmit.Spec.ClusterIPs[0] != "10.96.0.42" || resubmit.Spec.Ports[0].NodePort != 30080 {
		t.Errorf("resubmitted spec = %+v", resubmit.Spec)
	}

	toClusterIP := old.DeepCopy() // kubectl edit type: ClusterIP, nodePort left in
	toClusterIP.Spec.Type = corev1.ServiceTypeClusterIP
	checkErrors(t, update(t, toClusterIP, old))
	if toClusterIP.Spec.Ports[0].NodePort != 0 || toClusterIP.Spec.ExternalTrafficPolicy != "" {
		t.Errorf("type change kept %+v", toClusterIP.Spec)
	}

	toExternal := old.DeepCopy()
	toExternal.Spec.Type, toExternal.Spec.ExternalName = corev1.ServiceTypeExternalName, "db.example.com"
	checkErrors(t, update(t, toExternal, old))
	if toExternal.Spec.ClusterIP != "" || toExternal.Spec.IPFamilies != nil || toExternal.Spec.IPFamilyPolicy != nil {
		t.Errorf("ExternalName kept %+v", toExternal.Spec)
	}
}
