package registry

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

const (
	required     = field.ErrorTypeRequired
	invalidValue = field.ErrorTypeInvalid
	notSupported = field.ErrorTypeNotSupported
	forbidden    = field.ErrorTypeForbidden
	duplicate    = field.ErrorTypeDuplicate
	notFound     = field.ErrorTypeNotFound
)

func withPod(f func(*corev1.Pod)) runtime.Object {
	p := validPod()
	f(p)
	return p
}

func withService(f func(*corev1.Service)) runtime.Object {
	s := &corev1.Service{ObjectMeta: meta("web"), Spec: corev1.ServiceSpec{
		Selector: map[string]string{"app": "web"},
		Ports:    []corev1.ServicePort{{Name: "http", Port: 80}},
	}}
	f(s)
	return s
}

func withDeployment(f func(*appsv1.Deployment)) runtime.Object {
	d := validDeployment()
	f(d)
	return d
}

type createCase struct {
	name string
	obj  runtime.Object
	want []wantErr // none: the object is valid
}

func runCreateCases(t *testing.T, cases []createCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkErrors(t, create(t, tc.obj), tc.want...)
		})
	}
}

func TestValidateMetadata(t *testing.T) {
	runCreateCases(t, []createCase{
		{"valid pod", validPod(), nil},
		{"name required", withPod(func(p *corev1.Pod) { p.Name = "" }),
			[]wantErr{{"metadata.name", required, "name or generateName is required"}}},
		{"name not a subdomain", withPod(func(p *corev1.Pod) { p.Name = "Web_1" }),
			[]wantErr{{"metadata.name", invalidValue, "a lowercase RFC 1123 subdomain"}}},
		{"namespace required", withPod(func(p *corev1.Pod) { p.Namespace = "" }),
			[]wantErr{{"metadata.namespace", required, ""}}},
		{"bad label", withPod(func(p *corev1.Pod) { p.Labels = map[string]string{"a b": "c"} }),
			[]wantErr{{"metadata.labels", invalidValue, "name part must consist of"}}},
		{"bad annotation key", withPod(func(p *corev1.Pod) { p.Annotations = map[string]string{"/x": "y"} }),
			[]wantErr{{"metadata.annotations", invalidValue, ""}}},
		{"namespace on a cluster kind", &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Namespace: "default"}},
			[]wantErr{{"metadata.namespace", forbidden, "not allowed on this type"}}},
		{"namespace name is a label", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a.b"}},
			[]wantErr{{"metadata.name", invalidValue, "must not contain dots"}}},
		{"service name is a label", withService(func(s *corev1.Service) { s.Name = "a.b" }),
			[]wantErr{{"metadata.name", invalidValue, "must not contain dots"}}},
		{"service name may start with a digit", withService(func(s *corev1.Service) { s.Name = "1web" }), nil},
		{"statefulset name is a label", &appsv1.StatefulSet{ObjectMeta: meta("db.x")},
			[]wantErr{{"metadata.name", invalidValue, "must not contain dots"}}},
	})
}

func TestValidatePod(t *testing.T) {
	runCreateCases(t, []createCase{
		{"no containers", withPod(func(p *corev1.Pod) { p.Spec.Containers = nil }),
			[]wantErr{{"spec.containers", required, ""}}},
		{"duplicate container", withPod(func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{container("app", "busybox")}
		}), []wantErr{{"spec.initContainers[0].name", duplicate, ""}}},
		{"container name", withPod(func(p *corev1.Pod) { p.Spec.Containers[0].Name = "App" }),
			[]wantErr{{"spec.containers[0].name", invalidValue, "RFC 1123 label"}}},
		{"image required", withPod(func(p *corev1.Pod) { p.Spec.Containers[0].Image = "" }),
			[]wantErr{{"spec.containers[0].image", required, ""}}},
		{"ports", withPod(func(p *corev1.Pod) {
			p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 70000}, {}, {ContainerPort: 80, Protocol: "ICMP"}}
		}), []wantErr{
			{"spec.containers[0].ports[0].containerPort", invalidValue, "must be between 1 and 65535, inclusive"},
			{"spec.containers[0].ports[1].containerPort", required, ""},
			{"spec.containers[0].ports[2].protocol", notSupported, `supported values: "SCTP", "TCP", "UDP"`},
		}},
		{"restart policy", withPod(func(p *corev1.Pod) { p.Spec.RestartPolicy = "Sometimes" }),
			[]wantErr{{"spec.restartPolicy", notSupported, ""}}},
		{"dns policy", withPod(func(p *corev1.Pod) { p.Spec.DNSPolicy = "Google" }),
			[]wantErr{{"spec.dnsPolicy", notSupported, ""}}},
		{"dns none needs config", withPod(func(p *corev1.Pod) { p.Spec.DNSPolicy = corev1.DNSNone }),
			[]wantErr{{"spec.dnsConfig", required, "must provide `dnsConfig` when `dnsPolicy` is None"}}},
		{"requests above limits", withPod(func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources = corev1.ResourceRequirements{
				Requests: corev1.ResourceList{"cpu": mustQty("2")}, Limits: corev1.ResourceList{"cpu": mustQty("1")}}
		}), []wantErr{{"spec.containers[0].resources.requests[cpu]", invalidValue, "must be less than or equal to cpu limit of 1"}}},
		{"unknown resource", withPod(func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Limits = corev1.ResourceList{"gpu": mustQty("1")}
		}), []wantErr{{"spec.containers[0].resources.limits[gpu]", invalidValue, "must be a standard resource for containers"}}},
		{"mount of unknown volume", withPod(func(p *corev1.Pod) {
			p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
		}), []wantErr{{"spec.containers[0].volumeMounts[0].name", notFound, ""}}},
		{"probe without handler", withPod(func(p *corev1.Pod) { p.Spec.Containers[0].LivenessProbe = &corev1.Probe{} }),
			[]wantErr{{"spec.containers[0].livenessProbe", required, "must specify a handler type"}}},
		{"liveness success threshold", withPod(func(p *corev1.Pod) {
			p.Spec.Containers[0].LivenessProbe = &corev1.Probe{SuccessThreshold: 2,
				ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(80)}}}
		}), []wantErr{{"spec.containers[0].livenessProbe.successThreshold", invalidValue, "must be 1"}}},
		{"volumes", withPod(func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "a"}, {Name: "a"}, {Name: "b", VolumeSource: corev1.VolumeSource{
				EmptyDir: &corev1.EmptyDirVolumeSource{}, HostPath: &corev1.HostPathVolumeSource{Path: "/x"}}}}
		}), []wantErr{{"spec.volumes[1].name", duplicate, ""}, {"spec.volumes[2]", forbidden, "may not specify more than 1 volume type"}}},
		{"toleration", withPod(func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists, Value: "v"}}
		}), []wantErr{{"spec.tolerations[0].operator", invalidValue, "value must be empty when `operator` is 'Exists'"}}},
		{"host network ports", withPod(func(p *corev1.Pod) {
			p.Spec.HostNetwork = true
			p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: 8080}}
		}), []wantErr{{"spec.containers[0].ports[0].containerPort", invalidValue, "must match `hostPort` when `hostNetwork` is true"}}},
		{"env var source", withPod(func(p *corev1.Pod) {
			p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "X", Value: "1", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}}
		}), []wantErr{{"spec.containers[0].env[0].valueFrom", invalidValue, "may not be specified when `value` is not empty"}}},
	})
}

func TestValidateService(t *testing.T) {
	runCreateCases(t, []createCase{
		{"valid", withService(func(*corev1.Service) {}), nil},
		{"ports required", withService(func(s *corev1.Service) { s.Spec.Ports = nil }),
			[]wantErr{{"spec.ports", required, ""}}},
		{"headless needs no ports", withService(func(s *corev1.Service) { s.Spec.Ports, s.Spec.ClusterIP = nil, "None" }), nil},
		{"port names", withService(func(s *corev1.Service) {
			s.Spec.Ports = []corev1.ServicePort{{Name: "http", Port: 80}, {Port: 81}, {Name: "http", Port: 82}}
		}), []wantErr{{"spec.ports[1].name", required, ""}, {"spec.ports[2].name", duplicate, ""}}},
		{"port range and protocol", withService(func(s *corev1.Service) {
			s.Spec.Ports = []corev1.ServicePort{{Name: "a", Port: 0}, {Name: "b", Port: 80, Protocol: "HTTP"}}
		}), []wantErr{
			{"spec.ports[0].port", invalidValue, "must be between 1 and 65535, inclusive"},
			{"spec.ports[1].protocol", notSupported, ""},
		}},
		{"type", withService(func(s *corev1.Service) { s.Spec.Type = "Magic" }),
			[]wantErr{{"spec.type", notSupported, ""}}},
		{"cluster IP", withService(func(s *corev1.Service) { s.Spec.ClusterIP = "10.96.0.300" }),
			[]wantErr{{"spec.clusterIPs[0]", invalidValue, "must be a valid IP address"}}},
		{"externalName required", withService(func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeExternalName }),
			[]wantErr{{"spec.externalName", required, ""}}},
		{"ExternalName without cluster IP", withService(func(s *corev1.Service) {
			s.Spec.Type, s.Spec.ExternalName, s.Spec.ClusterIP = corev1.ServiceTypeExternalName, "db.example.com", "10.96.0.5"
		}), []wantErr{{"spec.clusterIPs", forbidden, "may not be set for ExternalName services"}}},
		{"nodePort on ClusterIP", withService(func(s *corev1.Service) { s.Spec.Ports[0].NodePort = 30080 }),
			[]wantErr{{"spec.ports[0].nodePort", forbidden, "may not be used when `type` is 'ClusterIP'"}}},
		{"NodePort headless", withService(func(s *corev1.Service) { s.Spec.Type, s.Spec.ClusterIP = corev1.ServiceTypeNodePort, "None" }),
			[]wantErr{{"spec.clusterIPs[0]", invalidValue, "may not be set to 'None' for NodePort services"}}},
		{"session affinity", withService(func(s *corev1.Service) { s.Spec.SessionAffinity = "Cookie" }),
			[]wantErr{{"spec.sessionAffinity", notSupported, ""}}},
		{"selector", withService(func(s *corev1.Service) { s.Spec.Selector = map[string]string{"app": "no spaces"} }),
			[]wantErr{{"spec.selector", invalidValue, ""}}},
		{"health check port needs Local", withService(func(s *corev1.Service) {
			s.Spec.Type, s.Spec.HealthCheckNodePort = corev1.ServiceTypeLoadBalancer, 30500
		}), []wantErr{{"spec.healthCheckNodePort", invalidValue, "may only be set when `type` is 'LoadBalancer'"}}},
		{"family mismatch", withService(func(s *corev1.Service) {
			s.Spec.ClusterIP, s.Spec.IPFamilies = "10.96.0.5", []corev1.IPFamily{corev1.IPv6Protocol}
		}), []wantErr{{"spec.clusterIPs[0]", invalidValue, "expected an IPv6 value as indicated by `ipFamilies[0]`"}}},
	})
}

func TestValidateWorkloads(t *testing.T) {
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	runCreateCases(t, []createCase{
		{"valid deployment", validDeployment(), nil},
		{"selector required", withDeployment(func(d *appsv1.Deployment) { d.Spec.Selector = nil }),
			[]wantErr{{"spec.selector", required, ""}}},
		{"selector mismatch", withDeployment(func(d *appsv1.Deployment) { d.Spec.Template.Labels = map[string]string{"app": "db"} }),
			[]wantErr{{"spec.template.metadata.labels", invalidValue, "`selector` does not match template `labels`"}}},
		{"empty selector", withDeployment(func(d *appsv1.Deployment) { d.Spec.Selector = &metav1.LabelSelector{} }),
			[]wantErr{{"spec.selector", invalidValue, "empty selector is invalid for deployment"}}},
		{"negative replicas", withDeployment(func(d *appsv1.Deployment) { d.Spec.Replicas = ptr.To[int32](-1) }),
			[]wantErr{{"spec.replicas", invalidValue, "must be greater than or equal to 0"}}},
		{"restart policy", withDeployment(func(d *appsv1.Deployment) { d.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever }),
			[]wantErr{{"spec.template.spec.restartPolicy", notSupported, `supported values: "Always"`}}},
		{"template pod spec", withDeployment(func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "" }),
			[]wantErr{{"spec.template.spec.containers[0].image", required, ""}}},
		{"strategy", withDeployment(func(d *appsv1.Deployment) {
			d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{
				MaxUnavailable: ptr.To(intstr.FromInt32(0)), MaxSurge: ptr.To(intstr.FromInt32(0))}}
		}), []wantErr{{"spec.strategy.rollingUpdate.maxUnavailable", invalidValue, "may not be 0 when `maxSurge` is 0"}}},
		{"recreate with rolling update", withDeployment(func(d *appsv1.Deployment) {
			d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{}}
		}), []wantErr{{"spec.strategy.rollingUpdate", forbidden, "may not be specified when strategy `type` is 'Recreate'"}}},
		{"replicaset mismatch", &appsv1.ReplicaSet{ObjectMeta: meta("rs"), Spec: appsv1.ReplicaSetSpec{Selector: sel, Template: podTemplate(nil)}},
			[]wantErr{{"spec.template.metadata.labels", invalidValue, "`selector` does not match template `labels`"}}},
		{"daemonset strategy", &appsv1.DaemonSet{ObjectMeta: meta("ds"), Spec: appsv1.DaemonSetSpec{Selector: sel, Template: podTemplate(sel.MatchLabels),
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: "Sometimes"}}},
			[]wantErr{{"spec.updateStrategy", notSupported, ""}}},
		{"statefulset mounts a claim", &appsv1.StatefulSet{ObjectMeta: meta("db"), Spec: appsv1.StatefulSetSpec{
			Selector: sel, Template: func() corev1.PodTemplateSpec {
				t := podTemplate(sel.MatchLabels)
				t.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
				return t
			}(),
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}}},
		}}, nil},
	})
}

func TestValidateBatch(t *testing.T) {
	never := func(tpl corev1.PodTemplateSpec) corev1.PodTemplateSpec {
		tpl.Spec.RestartPolicy = corev1.RestartPolicyNever
		return tpl
	}
	runCreateCases(t, []createCase{
		{"valid job", &batchv1.Job{ObjectMeta: meta("pi"), Spec: batchv1.JobSpec{Template: never(podTemplate(nil))}}, nil},
		{"job restart Always", &batchv1.Job{ObjectMeta: meta("pi"), Spec: batchv1.JobSpec{Template: podTemplate(nil)}},
			[]wantErr{{"spec.template.spec.restartPolicy", notSupported, `supported values: "Never", "OnFailure"`}}},
		{"job selector not generated", &batchv1.Job{ObjectMeta: meta("pi"), Spec: batchv1.JobSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "x"}},
			Template: never(podTemplate(map[string]string{"app": "x"}))}},
			[]wantErr{{"spec.selector", invalidValue, "`selector` not auto-generated"}}},
		{"manual selector", &batchv1.Job{ObjectMeta: meta("pi"), Spec: batchv1.JobSpec{
			ManualSelector: ptr.To(true), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "x"}},
			Template: never(podTemplate(map[string]string{"app": "x"}))}}, nil},
		{"valid cronjob", cronJob("nightly", "0 3 * * *"), nil},
		{"cron descriptor", cronJob("nightly", "@daily"), nil},
		{"cron schedule", cronJob("nightly", "61 * * * *"),
			[]wantErr{{"spec.schedule", invalidValue, "end of range (61) above maximum (59)"}}},
		{"cron field count", cronJob("nightly", "* * *"),
			[]wantErr{{"spec.schedule", invalidValue, "expected exactly 5 fields, found 3"}}},
		{"cron TZ", cronJob("nightly", "TZ=UTC 0 3 * * *"),
			[]wantErr{{"spec.schedule", invalidValue, "cannot use TZ or CRON_TZ in schedule"}}},
		{"cronjob name length", cronJob(strings.Repeat("a", 53), "@hourly"),
			[]wantErr{{"metadata.name", invalidValue, "must be no more than 52 characters"}}},
	})
}

func cronJob(name, schedule string) *batchv1.CronJob {
	t := podTemplate(nil)
	t.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
	return &batchv1.CronJob{ObjectMeta: meta(name), Spec: batchv1.CronJobSpec{
		Schedule: schedule, JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: t}},
	}}
}

func TestValidateNetworking(t *testing.T) {
	prefix := ptr.To(networkingv1.PathTypePrefix)
	backend := networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}}
	ing := func(paths ...networkingv1.HTTPIngressPath) *networkingv1.Ingress {
		return &networkingv1.Ingress{ObjectMeta: meta("web"), Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{
			Host: "web.example.com", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: paths}},
		}}}}
	}
	runCreateCases(t, []createCase{
		{"valid ingress", ing(networkingv1.HTTPIngressPath{Path: "/", PathType: prefix, Backend: backend}), nil},
		{"path type required", ing(networkingv1.HTTPIngressPath{Path: "/", Backend: backend}),
			[]wantErr{{"spec.rules[0].http.paths[0].pathType", required, "pathType must be specified"}}},
		{"relative path", ing(networkingv1.HTTPIngressPath{Path: "api", PathType: prefix, Backend: backend}),
			[]wantErr{{"spec.rules[0].http.paths[0].path", invalidValue, "must be an absolute path"}}},
		{"backend port", ing(networkingv1.HTTPIngressPath{Path: "/", PathType: prefix, Backend: networkingv1.IngressBackend{
			Service: &networkingv1.IngressServiceBackend{Name: "web"}}}),
			[]wantErr{{"spec.rules[0].http.paths[0].backend", required, "port name or number is required"}}},
		{"no backend", ing(networkingv1.HTTPIngressPath{Path: "/", PathType: prefix}),
			[]wantErr{{"spec.rules[0].http.paths[0].backend", invalidValue, "resource or service backend is required"}}},
		{"empty ingress", &networkingv1.Ingress{ObjectMeta: meta("web")},
			[]wantErr{{"spec", invalidValue, "either `defaultBackend` or `rules` must be specified"}}},
		{"ingress class controller", &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "rudder"}},
			[]wantErr{{"spec.controller", required, ""}}},
		{"network policy peer", &networkingv1.NetworkPolicy{ObjectMeta: meta("deny"), Spec: networkingv1.NetworkPolicySpec{
			Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{}, {
				IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8", Except: []string{"192.168.0.0/16"}}}}}},
		}}, []wantErr{
			{"spec.ingress[0].from[0]", required, "must specify a peer"},
			{"spec.ingress[0].from[1].ipBlock.except[0]", invalidValue, "must be a strict subset of `cidr`"},
		}},
		{"endpoint slice", &discoveryv1.EndpointSlice{ObjectMeta: meta("web-abc"), AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints: []discoveryv1.Endpoint{{}, {Addresses: []string{"fd00::1"}}}},
			[]wantErr{
				{"endpoints[0].addresses", required, "must contain at least 1 address"},
				{"endpoints[1].addresses[0]", invalidValue, "must be a valid IPv4 address"},
			}},
		{"endpoint slice type", &discoveryv1.EndpointSlice{ObjectMeta: meta("web-abc"), AddressType: "IPX"},
			[]wantErr{{"addressType", notSupported, ""}}},
	})
}

func TestValidateClusterKinds(t *testing.T) {
	runCreateCases(t, []createCase{
		{"lease duration", &coordinationv1.Lease{ObjectMeta: meta("node-1"), Spec: coordinationv1.LeaseSpec{LeaseDurationSeconds: ptr.To[int32](0)}},
			[]wantErr{{"spec.leaseDurationSeconds", invalidValue, "must be greater than 0"}}},
		{"node pod CIDR", &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Spec: corev1.NodeSpec{PodCIDR: "10.244.1.0/33"}},
			[]wantErr{{"spec.podCIDR", invalidValue, ""}}},
		{"node taint", &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Spec: corev1.NodeSpec{Taints: []corev1.Taint{{Key: "k"}}}},
			[]wantErr{{"spec.taints[0].effect", required, ""}}},
		{"configmap key", &corev1.ConfigMap{ObjectMeta: meta("cfg"), Data: map[string]string{"a/b": "x"}},
			[]wantErr{{"data[a/b]", invalidValue, "a valid config key must consist of"}}},
		{"tls secret", &corev1.Secret{ObjectMeta: meta("tls"), Type: corev1.SecretTypeTLS, Data: map[string][]byte{"tls.crt": []byte("x")}},
			[]wantErr{{"data[tls.key]", required, ""}}},
		{"opaque secret", &corev1.Secret{ObjectMeta: meta("s"), Data: map[string][]byte{"password": []byte("x")}}, nil},
		{"endpoints", &corev1.Endpoints{ObjectMeta: meta("web"), Subsets: []corev1.EndpointSubset{{
			Addresses: []corev1.EndpointAddress{{IP: "nope"}}, Ports: []corev1.EndpointPort{{Port: 80}}}}},
			[]wantErr{{"subsets[0].addresses[0].ip", invalidValue, "must be a valid IP address"}}},
	})
}
