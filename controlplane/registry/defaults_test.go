package registry

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// defaultedContainer is container(name, image) with the container defaults
// for an image pulled IfNotPresent.
func defaultedContainer(name, image string, pull corev1.PullPolicy) corev1.Container {
	return corev1.Container{
		Name: name, Image: image, ImagePullPolicy: pull,
		TerminationMessagePath: "/dev/termination-log", TerminationMessagePolicy: corev1.TerminationMessageReadFile,
	}
}

func defaultedSpec(cs ...corev1.Container) corev1.PodSpec {
	return corev1.PodSpec{
		Containers:                    cs,
		RestartPolicy:                 corev1.RestartPolicyAlways,
		DNSPolicy:                     corev1.DNSClusterFirst,
		TerminationGracePeriodSeconds: ptr.To[int64](30),
		SchedulerName:                 "default-scheduler",
		SecurityContext:               &corev1.PodSecurityContext{},
	}
}

func TestDefaults(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in, want runtime.Object
	}{
		{
			name: "pod",
			in:   &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{container("app", "nginx:1.27")}}},
			want: &corev1.Pod{Spec: func() corev1.PodSpec {
				s := defaultedSpec(defaultedContainer("app", "nginx:1.27", corev1.PullIfNotPresent))
				s.EnableServiceLinks = ptr.To(true)
				return s
			}()},
		},
		{
			name: "service ClusterIP",
			in:   &corev1.Service{Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}},
			want: &corev1.Service{Spec: corev1.ServiceSpec{
				Type:                  corev1.ServiceTypeClusterIP,
				SessionAffinity:       corev1.ServiceAffinityNone,
				Ports:                 []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(80)}},
				IPFamilies:            []corev1.IPFamily{corev1.IPv4Protocol},
				IPFamilyPolicy:        ptr.To(corev1.IPFamilyPolicySingleStack),
				InternalTrafficPolicy: ptr.To(corev1.ServiceInternalTrafficPolicyCluster),
			}},
		},
		{
			name: "service LoadBalancer with ClientIP affinity",
			in: &corev1.Service{Spec: corev1.ServiceSpec{
				Type: corev1.ServiceTypeLoadBalancer, SessionAffinity: corev1.ServiceAffinityClientIP,
				Ports: []corev1.ServicePort{{Port: 443, TargetPort: intstr.FromString("https")}},
			}},
			want: &corev1.Service{Spec: corev1.ServiceSpec{
				Type:                          corev1.ServiceTypeLoadBalancer,
				SessionAffinity:               corev1.ServiceAffinityClientIP,
				SessionAffinityConfig:         &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr.To[int32](10800)}},
				Ports:                         []corev1.ServicePort{{Port: 443, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromString("https")}},
				ExternalTrafficPolicy:         corev1.ServiceExternalTrafficPolicyCluster,
				AllocateLoadBalancerNodePorts: ptr.To(true),
				IPFamilies:                    []corev1.IPFamily{corev1.IPv4Protocol},
				IPFamilyPolicy:                ptr.To(corev1.IPFamilyPolicySingleStack),
				InternalTrafficPolicy:         ptr.To(corev1.ServiceInternalTrafficPolicyCluster),
			}},
		},
		{
			name: "service ExternalName gets no IP fields",
			in:   &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "db.example.com"}},
			want: &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "db.example.com", SessionAffinity: corev1.ServiceAffinityNone}},
		},
		{
			name: "secret",
			in:   &corev1.Secret{},
			want: &corev1.Secret{Type: corev1.SecretTypeOpaque},
		},
		{
			name: "secret stringData merges into data and is not kept",
			in: &corev1.Secret{Data: map[string][]byte{"a": []byte("old"), "b": []byte("keep")},
				StringData: map[string]string{"a": "new", "c": "added"}},
			want: &corev1.Secret{Type: corev1.SecretTypeOpaque,
				Data: map[string][]byte{"a": []byte("new"), "b": []byte("keep"), "c": []byte("added")}},
		},
		{
			name: "endpoints",
			in:   &corev1.Endpoints{Subsets: []corev1.EndpointSubset{{Ports: []corev1.EndpointPort{{Port: 80}}}}},
			want: &corev1.Endpoints{Subsets: []corev1.EndpointSubset{{Ports: []corev1.EndpointPort{{Port: 80, Protocol: corev1.ProtocolTCP}}}}},
		},
		{
			name: "namespace",
			in:   &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a"}},
			want: &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a", Labels: map[string]string{"kubernetes.io/metadata.name": "a"}},
				Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}},
		},
		{
			name: "node allocatable",
			in:   &corev1.Node{Status: corev1.NodeStatus{Capacity: corev1.ResourceList{"cpu": mustQty("2")}}},
			want: &corev1.Node{Status: corev1.NodeStatus{Capacity: corev1.ResourceList{"cpu": mustQty("2")}, Allocatable: corev1.ResourceList{"cpu": mustQty("2")}}},
		},
		{
			name: "network policy",
			in: &networkingv1.NetworkPolicy{Spec: networkingv1.NetworkPolicySpec{
				Egress: []networkingv1.NetworkPolicyEgressRule{{Ports: []networkingv1.NetworkPolicyPort{{}}}},
			}},
			want: &networkingv1.NetworkPolicy{Spec: networkingv1.NetworkPolicySpec{
				Egress:      []networkingv1.NetworkPolicyEgressRule{{Ports: []networkingv1.NetworkPolicyPort{{Protocol: ptr.To(corev1.ProtocolTCP)}}}},
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			}},
		},
		{
			name: "endpoint slice",
			in:   &discoveryv1.EndpointSlice{Ports: []discoveryv1.EndpointPort{{Port: ptr.To[int32](80)}}},
			want: &discoveryv1.EndpointSlice{Ports: []discoveryv1.EndpointPort{{Name: ptr.To(""), Port: ptr.To[int32](80), Protocol: ptr.To(corev1.ProtocolTCP)}}},
		},
		{
			name: "ingress class",
			in:   &networkingv1.IngressClass{Spec: networkingv1.IngressClassSpec{Parameters: &networkingv1.IngressClassParametersReference{Kind: "X", Name: "x"}}},
			want: &networkingv1.IngressClass{Spec: networkingv1.IngressClassSpec{Parameters: &networkingv1.IngressClassParametersReference{Kind: "X", Name: "x", Scope: ptr.To("Cluster")}}},
		},
		{
			name: "cronjob",
			in:   &batchv1.CronJob{Spec: batchv1.CronJobSpec{Schedule: "* * * * *"}},
			want: &batchv1.CronJob{Spec: batchv1.CronJobSpec{
				Schedule: "* * * * *", ConcurrencyPolicy: batchv1.AllowConcurrent, Suspend: ptr.To(false),
				SuccessfulJobsHistoryLimit: ptr.To[int32](3), FailedJobsHistoryLimit: ptr.To[int32](1),
				JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: defaultedSpec()}}},
			}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			strategyOf(t, tc.in).Default(tc.in)
			if !apiequality.Semantic.DeepEqual(tc.in, tc.want) {
				t.Errorf("defaulted object differs (-want +got):\n%s", cmp.Diff(tc.want, tc.in))
			}
		})
	}
}

func TestDefaultPullPolicy(t *testing.T) {
	for image, want := range map[string]corev1.PullPolicy{
		"nginx":                          corev1.PullAlways,
		"nginx:latest":                   corev1.PullAlways,
		"nginx:1.27":                     corev1.PullIfNotPresent,
		"localhost:5000/app":             corev1.PullAlways,
		"localhost:5000/app:v2":          corev1.PullIfNotPresent,
		"busybox@sha256:abcd":            corev1.PullIfNotPresent,
		"registry:5000/busybox:1@sha256": corev1.PullIfNotPresent,
	} {
		if got := defaultPullPolicy(image); got != want {
			t.Errorf("defaultPullPolicy(%q) = %s, want %s", image, got, want)
		}
	}
}

func TestDefaultPodDetails(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{
		HostNetwork: true,
		Containers: []corev1.Container{{
			Name: "app", Image: "app",
			Ports:          []corev1.ContainerPort{{ContainerPort: 8080}},
			LivenessProbe:  &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(8080)}}},
			Env:            []corev1.EnvVar{{Name: "NODE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}}},
			Resources:      corev1.ResourceRequirements{Limits: corev1.ResourceList{"memory": mustQty("64Mi")}},
			ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(8080)}}},
		}},
		Volumes: []corev1.Volume{
			{Name: "scratch"},
			{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}}},
			{Name: "sec", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s"}}},
		},
	}}
	defaultPod(pod)
	c := pod.Spec.Containers[0]
	if p := c.Ports[0]; p.Protocol != corev1.ProtocolTCP || p.HostPort != 8080 {
		t.Errorf("port = %+v", p)
	}
	lp := c.LivenessProbe
	if lp.TimeoutSeconds != 1 || lp.PeriodSeconds != 10 || lp.SuccessThreshold != 1 || lp.FailureThreshold != 3 || lp.HTTPGet.Path != "/" || lp.HTTPGet.Scheme != corev1.URISchemeHTTP {
		t.Errorf("liveness probe = %+v", lp)
	}
	if c.Env[0].ValueFrom.FieldRef.APIVersion != "v1" {
		t.Errorf("fieldRef = %+v", c.Env[0].ValueFrom.FieldRef)
	}
	if q := c.Resources.Requests["memory"]; q.Cmp(mustQty("64Mi")) != 0 {
		t.Errorf("requests = %v", c.Resources.Requests)
	}
	v := pod.Spec.Volumes
	if v[0].EmptyDir == nil || *v[1].ConfigMap.DefaultMode != 420 || *v[2].Secret.DefaultMode != 420 {
		t.Errorf("volumes = %+v", v)
	}
}

func TestDefaultWorkloads(t *testing.T) {
	d := &appsv1.Deployment{}
	defaultDeployment(d)
	ru := d.Spec.Strategy.RollingUpdate
	if *d.Spec.Replicas != 1 || d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || ru.MaxSurge.StrVal != "25%" ||
		ru.MaxUnavailable.StrVal != "25%" || *d.Spec.RevisionHistoryLimit != 10 || *d.Spec.ProgressDeadlineSeconds != 600 {
		t.Errorf("deployment spec = %+v", d.Spec)
	}
	if d.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyAlways || d.Spec.Template.Spec.EnableServiceLinks != nil {
		t.Errorf("template spec = %+v", d.Spec.Template.Spec)
	}

	ds := &appsv1.DaemonSet{}
	defaultDaemonSet(ds)
	dru := ds.Spec.UpdateStrategy.RollingUpdate
	if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType || dru.MaxUnavailable.IntValue() != 1 || dru.MaxSurge.IntValue() != 0 || *ds.Spec.RevisionHistoryLimit != 10 {
		t.Errorf("daemonset spec = %+v", ds.Spec)
	}

	ss := &appsv1.StatefulSet{}
	defaultStatefulSet(ss)
	p := ss.Spec.PersistentVolumeClaimRetentionPolicy
	if *ss.Spec.Replicas != 1 || ss.Spec.PodManagementPolicy != appsv1.OrderedReadyPodManagement ||
		*ss.Spec.UpdateStrategy.RollingUpdate.Partition != 0 || *ss.Spec.RevisionHistoryLimit != 10 ||
		p.WhenDeleted != appsv1.RetainPersistentVolumeClaimRetentionPolicyType || p.WhenScaled != appsv1.RetainPersistentVolumeClaimRetentionPolicyType {
		t.Errorf("statefulset spec = %+v", ss.Spec)
	}

	rs := &appsv1.ReplicaSet{}
	defaultReplicaSet(rs)
	if *rs.Spec.Replicas != 1 {
		t.Errorf("replicaset replicas = %d", *rs.Spec.Replicas)
	}

	job := &batchv1.Job{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"a": "b"}}}}}
	defaultJob(job)
	js := job.Spec
	if *js.Parallelism != 1 || *js.Completions != 1 || *js.BackoffLimit != 6 || *js.CompletionMode != batchv1.NonIndexedCompletion ||
		*js.Suspend || *js.ManualSelector || *js.PodReplacementPolicy != batchv1.TerminatingOrFailed || job.Labels["a"] != "b" {
		t.Errorf("job = %+v", job)
	}
	parallel := &batchv1.Job{Spec: batchv1.JobSpec{Parallelism: ptr.To[int32](3)}}
	defaultJob(parallel)
	if parallel.Spec.Completions != nil {
		t.Errorf("completions defaulted with parallelism set: %d", *parallel.Spec.Completions)
	}
}
