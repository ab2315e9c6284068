package tables

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func service(typ corev1.ServiceType, ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: objMeta("web", 90*time.Minute),
		Spec: corev1.ServiceSpec{
			Type: typ, ClusterIP: "10.96.0.20", ClusterIPs: []string{"10.96.0.20"},
			Ports: ports, Selector: map[string]string{"app": "web"},
		},
	}
}

func TestServices(t *testing.T) {
	headers := []string{"Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age", "Selector+"}
	http := corev1.ServicePort{Port: 80, TargetPort: intstr.FromInt32(8080), Protocol: corev1.ProtocolTCP}
	dns := corev1.ServicePort{Port: 53, Protocol: corev1.ProtocolUDP}
	nodePort := corev1.ServicePort{Port: 80, NodePort: 30080, Protocol: corev1.ProtocolTCP}

	lb := service(corev1.ServiceTypeLoadBalancer, nodePort)
	lb.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "203.0.113.10"}, {Hostname: "lb.example.com"}, {IP: "203.0.113.10"}}
	lbExternal := service(corev1.ServiceTypeLoadBalancer, nodePort)
	lbExternal.Spec.ExternalIPs = []string{"198.51.100.1"}
	external := service(corev1.ServiceTypeExternalName)
	external.Spec.ExternalName, external.Spec.ClusterIP, external.Spec.ClusterIPs, external.Spec.Selector = "db.example.com", "", nil, nil
	headless := service("", http)
	headless.Spec.ClusterIP, headless.Spec.ClusterIPs = "None", []string{"None"}
	withExternal := service(corev1.ServiceTypeClusterIP, http)
	withExternal.Spec.ExternalIPs = []string{"198.51.100.1", "198.51.100.2"}

	runKindCases(t, []kindCase{
		{"cluster ip", service(corev1.ServiceTypeClusterIP, http, dns), headers, []interface{}{"web", "ClusterIP", "10.96.0.20", "<none>", "80/TCP,53/UDP", "90m", "app=web"}},
		{"external ips", withExternal, headers, []interface{}{"web", "ClusterIP", "10.96.0.20", "198.51.100.1,198.51.100.2", "80/TCP", "90m", "app=web"}},
		{"node port", service(corev1.ServiceTypeNodePort, nodePort), headers, []interface{}{"web", "NodePort", "10.96.0.20", "<none>", "80:30080/TCP", "90m", "app=web"}},
		{"lb pending", service(corev1.ServiceTypeLoadBalancer, nodePort), headers, []interface{}{"web", "LoadBalancer", "10.96.0.20", "<pending>", "80:30080/TCP", "90m", "app=web"}},
		{"lb ready", lb, headers, []interface{}{"web", "LoadBalancer", "10.96.0.20", "203.0.113.10,lb.example.com", "80:30080/TCP", "90m", "app=web"}},
		{"lb external", lbExternal, headers, []interface{}{"web", "LoadBalancer", "10.96.0.20", "198.51.100.1", "80:30080/TCP", "90m", "app=web"}},
		{"external name", external, headers, []interface{}{"web", "ExternalName", "<none>", "db.example.com", "<none>", "90m", "<none>"}},
		{"headless untyped", headless, headers, []interface{}{"web", "ClusterIP", "None", "<none>", "80/TCP", "90m", "app=web"}},
	})
}

func TestNodes(t *testing.T) {
	headers := []string{"Name", "Status", "Roles", "Age", "Version", "Internal-IP+", "External-IP+", "OS-Image+", "Kernel-Version+", "Container-Runtime+"}
	node := func(ready corev1.ConditionStatus, unschedulable bool, lbls map[string]string) *corev1.Node {
		n := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: "node-1", CreationTimestamp: ago(26 * time.Hour), Labels: lbls},
			Spec:       corev1.NodeSpec{Unschedulable: unschedulable},
			Status: corev1.NodeStatus{
				Addresses: []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: "node-1"}, {Type: corev1.NodeInternalIP, Address: "192.168.50.2"}},
				NodeInfo:  corev1.NodeSystemInfo{KubeletVersion: "v1.33.1", OSImage: "Debian GNU/Linux 12", KernelVersion: "6.1.0", ContainerRuntimeVersion: "rudder://0.1"},
			},
		}
		if ready != "" {
			n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse}, {Type: corev1.NodeReady, Status: ready}}
		}
		return n
	}
	roles := map[string]string{"node-role.kubernetes.io/worker": "", "node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "edge", "node-role.kubernetes.io/": ""}
	bare := node("", false, nil)
	bare.Status.NodeInfo = corev1.NodeSystemInfo{}
	bare.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeExternalIP, Address: "203.0.113.7"}}

	runKindCases(t, []kindCase{
		{"ready", node(corev1.ConditionTrue, false, nil), headers, []interface{}{"node-1", "Ready", "<none>", "26h", "v1.33.1", "192.168.50.2", "<none>", "Debian GNU/Linux 12", "6.1.0", "rudder://0.1"}},
		{"cordoned with roles", node(corev1.ConditionTrue, true, roles), headers, []interface{}{"node-1", "Ready,SchedulingDisabled", "control-plane,edge,worker", "26h", "v1.33.1", "192.168.50.2", "<none>", "Debian GNU/Linux 12", "6.1.0", "rudder://0.1"}},
		{"not ready", node(corev1.ConditionUnknown, false, nil), headers, []interface{}{"node-1", "NotReady", "<none>", "26h", "v1.33.1", "192.168.50.2", "<none>", "Debian GNU/Linux 12", "6.1.0", "rudder://0.1"}},
		{"no conditions", bare, headers, []interface{}{"node-1", "Unknown", "<none>", "26h", "", "<none>", "203.0.113.7", "<unknown>", "<unknown>", "<unknown>"}},
	})
}

func TestCoreSimpleKinds(t *testing.T) {
	ns := &corev1.Namespace{ObjectMeta: objMeta("team-a", 5*time.Hour), Status: corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating}}
	cm := &corev1.ConfigMap{ObjectMeta: objMeta("cfg", 10*time.Second), Data: map[string]string{"a": "1", "b": "2"}, BinaryData: map[string][]byte{"c": {1}}}
	secret := &corev1.Secret{ObjectMeta: objMeta("tls", 2*time.Minute+30*time.Second), Type: corev1.SecretTypeTLS, Data: map[string][]byte{"tls.crt": nil, "tls.key": nil}}
	opaque := &corev1.Secret{ObjectMeta: objMeta("plain", 2*time.Minute)}
	sa := &corev1.ServiceAccount{ObjectMeta: objMeta("default", 3*24*time.Hour), Secrets: []corev1.ObjectReference{{Name: "x"}}}
	lease := &coordinationv1.Lease{ObjectMeta: objMeta("node-1", 26*time.Hour), Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr("node-1")}}
	unheld := &coordinationv1.Lease{ObjectMeta: objMeta("free", 26*time.Hour)}
	other := &corev1.PodTemplate{ObjectMeta: objMeta("tmpl", 5*time.Hour)}
	unknownAge := &corev1.PodTemplate{ObjectMeta: metav1.ObjectMeta{Name: "new"}}

	runKindCases(t, []kindCase{
		{"namespace", ns, []string{"Name", "Status", "Age"}, []interface{}{"team-a", "Terminating", "5h"}},
		{"configmap", cm, []string{"Name", "Data", "Age"}, []interface{}{"cfg", int64(3), "10s"}},
		{"secret", secret, []string{"Name", "Type", "Data", "Age"}, []interface{}{"tls", "kubernetes.io/tls", int64(2), "2m30s"}},
		{"secret untyped", opaque, []string{"Name", "Type", "Data", "Age"}, []interface{}{"plain", "Opaque", int64(0), "2m"}},
		{"serviceaccount", sa, []string{"Name", "Age"}, []interface{}{"default", "3d"}},
		{"lease", lease, []string{"Name", "Holder", "Age"}, []interface{}{"node-1", "node-1", "26h"}},
		{"lease unheld", unheld, []string{"Name", "Holder", "Age"}, []interface{}{"free", "", "26h"}},
		{"default table", other, []string{"Name", "Age"}, []interface{}{"tmpl", "5h"}},
		{"unknown age", unknownAge, []string{"Name", "Age"}, []interface{}{"new", "<unknown>"}},
	})
}

func TestEndpoints(t *testing.T) {
	addrs := func(ips ...string) []corev1.EndpointAddress {
		out := make([]corev1.EndpointAddress, len(ips))
		for i, ip := range ips {
			out[i] = corev1.EndpointAddress{IP: ip}
		}
		return out
	}
	ep := func(subsets ...corev1.EndpointSubset) *corev1.Endpoints {
		return &corev1.Endpoints{ObjectMeta: objMeta("web", 5*time.Minute), Subsets: subsets}
	}
	port := func(p int32) []corev1.EndpointPort { return []corev1.EndpointPort{{Port: p}} }
	headers := []string{"Name", "Endpoints", "Age"}
	runKindCases(t, []kindCase{
		{"none", ep(), headers, []interface{}{"web", "<none>", "5m"}},
		{"two", ep(corev1.EndpointSubset{Addresses: addrs("10.0.0.1", "10.0.0.2"), Ports: port(80)}), headers, []interface{}{"web", "10.0.0.1:80,10.0.0.2:80", "5m"}},
		{"more", ep(corev1.EndpointSubset{Addresses: addrs("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"), Ports: port(80)}), headers, []interface{}{"web", "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 2 more...", "5m"}},
		{"headless and v6", ep(corev1.EndpointSubset{Addresses: addrs("10.0.0.9")}, corev1.EndpointSubset{Addresses: addrs("fd00::1"), Ports: []corev1.EndpointPort{{Port: 80}, {Port: 443}}}), headers, []interface{}{"web", "10.0.0.9,[fd00::1]:80,[fd00::1]:443", "5m"}},
	})
}

func TestEndpointSlices(t *testing.T) {
	headers := []string{"Name", "AddressType", "Ports", "Endpoints", "Age"}
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta:  objMeta("web-abcde", 5*time.Minute),
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Port: ptr(int32(80))}, {Name: ptr("metrics")}, {}, {Port: ptr(int32(9090))}},
		Endpoints: []discoveryv1.Endpoint{
			{Addresses: []string{"10.244.1.5"}}, {Addresses: []string{"10.244.2.5"}},
			{Addresses: []string{"10.244.3.5"}}, {Addresses: []string{"10.244.4.5"}},
		},
	}
	empty := &discoveryv1.EndpointSlice{ObjectMeta: objMeta("empty", 5*time.Minute), AddressType: discoveryv1.AddressTypeIPv6}
	runKindCases(t, []kindCase{
		{"full", slice, headers, []interface{}{"web-abcde", "IPv4", "80,metrics,* + 1 more...", "10.244.1.5,10.244.2.5,10.244.3.5 + 1 more...", "5m"}},
		{"empty", empty, headers, []interface{}{"empty", "IPv6", "<unset>", "<unset>", "5m"}},
	})
}

func TestEvents(t *testing.T) {
	headers := []string{"Last Seen", "Type", "Reason", "Object", "Subobject+", "Source+", "Message", "First Seen+", "Count+", "Name+"}
	core := &corev1.Event{
		ObjectMeta:     objMeta("web.17a", time.Hour),
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web", FieldPath: "spec.containers{app}"},
		Reason:         "BackOff", Message: "Back-off restarting failed container\n", Type: corev1.EventTypeWarning,
		Source:         corev1.EventSource{Component: "kubelet", Host: "node-1"},
		FirstTimestamp: ago(time.Hour), LastTimestamp: ago(5 * time.Minute), Count: 12,
	}
	singleton := &corev1.Event{
		ObjectMeta:     objMeta("node.1", time.Hour),
		InvolvedObject: corev1.ObjectReference{Kind: "Node"},
		Reason:         "Starting", Type: corev1.EventTypeNormal,
		EventTime:           metav1.NewMicroTime(now.Add(-2 * time.Minute)),
		ReportingController: "rudder-kubelet",
	}
	series := &eventsv1.Event{
		ObjectMeta: objMeta("web.17b", time.Hour),
		Regarding:  corev1.ObjectReference{Kind: "Deployment", Name: "web"},
		Reason:     "ScalingReplicaSet", Note: "Scaled up replica set web-5d to 3", Type: corev1.EventTypeNormal,
		EventTime:           metav1.NewMicroTime(now.Add(-time.Hour)),
		Series:              &eventsv1.EventSeries{Count: 4, LastObservedTime: metav1.NewMicroTime(now.Add(-30 * time.Second))},
		ReportingController: "deployment-controller", ReportingInstance: "cp-1",
	}
	runKindCases(t, []kindCase{
		{"core", core, headers, []interface{}{"5m", "Warning", "BackOff", "pod/web", "spec.containers{app}", "kubelet, node-1", "Back-off restarting failed container", "60m", int64(12), "web.17a"}},
		{"singleton", singleton, headers, []interface{}{"2m", "Normal", "Starting", "node", "", "rudder-kubelet", "", "2m", int64(1), "node.1"}},
		{"events.k8s.io series", series, headers, []interface{}{"30s", "Normal", "ScalingReplicaSet", "deployment/web", "", "deployment-controller, cp-1", "Scaled up replica set web-5d to 3", "60m", int64(4), "web.17b"}},
	})
}

func podTemplate(containers ...corev1.Container) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: containers}}
}

func TestWorkloads(t *testing.T) {
	tmpl := podTemplate(corev1.Container{Name: "app", Image: "nginx:1.27"}, corev1.Container{Name: "sidecar", Image: "envoy:1.30"})
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	deploy := &appsv1.Deployment{
		ObjectMeta: objMeta("web", 3*24*time.Hour),
		Spec:       appsv1.DeploymentSpec{Replicas: ptr(int32(3)), Selector: sel, Template: tmpl},
		Status:     appsv1.DeploymentStatus{ReadyReplicas: 2, UpdatedReplicas: 3, AvailableReplicas: 2},
	}
	undefaulted := &appsv1.Deployment{ObjectMeta: objMeta("bare", time.Minute)}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: objMeta("web-5d4f", 3*24*time.Hour),
		Spec:       appsv1.ReplicaSetSpec{Replicas: ptr(int32(3)), Selector: sel, Template: tmpl},
		Status:     appsv1.ReplicaSetStatus{Replicas: 3, ReadyReplicas: 2},
	}
	ds := &appsv1.DaemonSet{
		ObjectMeta: objMeta("agent", 3*24*time.Hour),
		Spec: appsv1.DaemonSetSpec{Selector: sel, Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "agent", Image: "rudder:dev"}}, NodeSelector: map[string]string{"kubernetes.io/os": "linux"},
		}}},
		Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: 3, CurrentNumberScheduled: 3, NumberReady: 2, UpdatedNumberScheduled: 3, NumberAvailable: 2},
	}
	sts := &appsv1.StatefulSet{
		ObjectMeta: objMeta("db", 3*24*time.Hour),
		Spec:       appsv1.StatefulSetSpec{Replicas: ptr(int32(2)), Selector: sel, Template: tmpl},
		Status:     appsv1.StatefulSetStatus{ReadyReplicas: 1},
	}
	runKindCases(t, []kindCase{
		{"deployment", deploy, []string{"Name", "Ready", "Up-to-date", "Available", "Age", "Containers+", "Images+", "Selector+"},
			[]interface{}{"web", "2/3", int64(3), int64(2), "3d", "app,sidecar", "nginx:1.27,envoy:1.30", "app=web"}},
		{"deployment undefaulted", undefaulted, []string{"Name", "Ready", "Up-to-date", "Available", "Age", "Containers+", "Images+", "Selector+"},
			[]interface{}{"bare", "0/1", int64(0), int64(0), "60s", "", "", ""}},
		{"replicaset", rs, []string{"Name", "Desired", "Current", "Ready", "Age", "Containers+", "Images+", "Selector+"},
			[]interface{}{"web-5d4f", int64(3), int64(3), int64(2), "3d", "app,sidecar", "nginx:1.27,envoy:1.30", "app=web"}},
		{"daemonset", ds, []string{"Name", "Desired", "Current", "Ready", "Up-to-date", "Available", "Node Selector", "Age", "Containers+", "Images+", "Selector+"},
			[]interface{}{"agent", int64(3), int64(3), int64(2), int64(3), int64(2), "kubernetes.io/os=linux", "3d", "agent", "rudder:dev", "app=web"}},
		{"statefulset", sts, []string{"Name", "Ready", "Age", "Containers+", "Images+"},
			[]interface{}{"db", "1/2", "3d", "app,sidecar", "nginx:1.27,envoy:1.30"}},
	})
}

func TestJobs(t *testing.T) {
	headers := []string{"Name", "Status", "Completions", "Duration", "Age", "Containers+", "Images+", "Selector+"}
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"batch.kubernetes.io/controller-uid": "u1"}}
	job := func(name string, completions, parallelism *int32, conds ...batchv1.JobConditionType) *batchv1.Job {
		j := &batchv1.Job{
			ObjectMeta: objMeta(name, 10*time.Minute),
			Spec: batchv1.JobSpec{Completions: completions, Parallelism: parallelism, Selector: sel,
				Template: podTemplate(corev1.Container{Name: "pi", Image: "perl:5"})},
			Status: batchv1.JobStatus{Succeeded: 1, StartTime: agoPtr(10 * time.Minute)},
		}
		for _, c := range conds {
			j.Status.Conditions = append(j.Status.Conditions, batchv1.JobCondition{Type: c, Status: corev1.ConditionTrue})
		}
		return j
	}
	done := job("done", ptr(int32(1)), nil, batchv1.JobSuccessCriteriaMet, batchv1.JobComplete)
	done.Status.CompletionTime = agoPtr(7*time.Minute + 30*time.Second)
	failed := job("failed", ptr(int32(3)), nil, batchv1.JobFailureTarget, batchv1.JobFailed)
	queued := job("queue", nil, ptr(int32(3)))
	queued.Status.StartTime = nil
	suspended := job("paused", nil, nil, batchv1.JobSuspended)
	terminating := job("going", nil, nil, batchv1.JobSuspended)
	terminating.DeletionTimestamp = agoPtr(time.Second)
	selector := "batch.kubernetes.io/controller-uid=u1"

	runKindCases(t, []kindCase{
		{"complete", done, headers, []interface{}{"done", "Complete", "1/1", "2m30s", "10m", "pi", "perl:5", selector}},
		{"failed", failed, headers, []interface{}{"failed", "Failed", "1/3", "10m", "10m", "pi", "perl:5", selector}},
		{"work queue", queued, headers, []interface{}{"queue", "Running", "1/1 of 3", "", "10m", "pi", "perl:5", selector}},
		{"suspended", suspended, headers, []interface{}{"paused", "Suspended", "1/1", "10m", "10m", "pi", "perl:5", selector}},
		{"terminating", terminating, headers, []interface{}{"going", "Terminating", "1/1", "10m", "10m", "pi", "perl:5", selector}},
	})
}

func TestCronJobs(t *testing.T) {
	headers := []string{"Name", "Schedule", "Timezone", "Suspend", "Active", "Last Schedule", "Age", "Containers+", "Images+", "Selector+"}
	cj := &batchv1.CronJob{
		ObjectMeta: objMeta("backup", 3*24*time.Hour),
		Spec: batchv1.CronJobSpec{Schedule: "*/5 * * * *", TimeZone: ptr("Etc/UTC"), Suspend: ptr(false),
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: podTemplate(corev1.Container{Name: "backup", Image: "restic:0.17"})}}},
		Status: batchv1.CronJobStatus{Active: []corev1.ObjectReference{{Name: "backup-1"}}, LastScheduleTime: agoPtr(4 * time.Minute)},
	}
	fresh := &batchv1.CronJob{ObjectMeta: objMeta("fresh", time.Minute), Spec: batchv1.CronJobSpec{Schedule: "@daily", Suspend: ptr(true)}}
	bare := &batchv1.CronJob{ObjectMeta: objMeta("bare", time.Minute), Spec: batchv1.CronJobSpec{Schedule: "@hourly"}}
	runKindCases(t, []kindCase{
		{"active", cj, headers, []interface{}{"backup", "*/5 * * * *", "Etc/UTC", "False", int64(1), "4m", "3d", "backup", "restic:0.17", "<none>"}},
		{"suspended", fresh, headers, []interface{}{"fresh", "@daily", "<none>", "True", int64(0), "<none>", "60s", "", "", "<none>"}},
		{"unset", bare, headers, []interface{}{"bare", "@hourly", "<none>", "<unset>", int64(0), "<none>", "60s", "", "", "<none>"}},
	})
}

func TestNetworking(t *testing.T) {
	rule := func(host string) networkingv1.IngressRule { return networkingv1.IngressRule{Host: host} }
	ing := &networkingv1.Ingress{
		ObjectMeta: objMeta("web", 5*time.Hour),
		Spec: networkingv1.IngressSpec{
			IngressClassName: ptr("rudder"),
			Rules:            []networkingv1.IngressRule{rule("a.example.com"), rule(""), rule("b.example.com"), rule("c.example.com"), rule("d.example.com")},
			TLS:              []networkingv1.IngressTLS{{Hosts: []string{"a.example.com"}}},
		},
		Status: networkingv1.IngressStatus{LoadBalancer: networkingv1.IngressLoadBalancerStatus{
			Ingress: []networkingv1.IngressLoadBalancerIngress{{IP: "192.168.50.10"}, {IP: "192.168.50.11"}},
		}},
	}
	bare := &networkingv1.Ingress{ObjectMeta: objMeta("bare", 5*time.Hour), Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{rule("")}}}
	class := &networkingv1.IngressClass{
		ObjectMeta: objMeta("rudder", 5*time.Hour),
		Spec: networkingv1.IngressClassSpec{Controller: "rudder.dev/ingress",
			Parameters: &networkingv1.IngressClassParametersReference{APIGroup: ptr("k8s.example.com"), Kind: "IngressParameters", Name: "external-lb"}},
	}
	plainClass := &networkingv1.IngressClass{ObjectMeta: objMeta("plain", 5*time.Hour), Spec: networkingv1.IngressClassSpec{Controller: "x/y"}}
	np := &networkingv1.NetworkPolicy{ObjectMeta: objMeta("deny", 5*time.Hour), Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"role": "db"}}}}
	all := &networkingv1.NetworkPolicy{ObjectMeta: objMeta("all", 5*time.Hour)}

	ingHeaders := []string{"Name", "Class", "Hosts", "Address", "Ports", "Age"}
	runKindCases(t, []kindCase{
		{"ingress", ing, ingHeaders, []interface{}{"web", "rudder", "a.example.com,b.example.com,c.example.com + 2 more...", "192.168.50.10,192.168.50.11", "80, 443", "5h"}},
		{"ingress bare", bare, ingHeaders, []interface{}{"bare", "<none>", "*", "", "80", "5h"}},
		{"ingressclass", class, []string{"Name", "Controller", "Parameters", "Age"}, []interface{}{"rudder", "rudder.dev/ingress", "IngressParameters.k8s.example.com/external-lb", "5h"}},
		{"ingressclass plain", plainClass, []string{"Name", "Controller", "Parameters", "Age"}, []interface{}{"plain", "x/y", "<none>", "5h"}},
		{"networkpolicy", np, []string{"Name", "Pod-Selector", "Age"}, []interface{}{"deny", "role=db", "5h"}},
		{"networkpolicy all pods", all, []string{"Name", "Pod-Selector", "Age"}, []interface{}{"all", "<none>", "5h"}},
	})
}
