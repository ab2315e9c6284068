package podenv

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func ptr[T any](v T) *T { return &v }

func svc(ns, name, ip string, ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       corev1.ServiceSpec{ClusterIP: ip, Ports: ports},
	}
}

func testPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "team", Name: "web-0", UID: "uid-1",
			Labels:      map[string]string{"app": "web", "tier": "front"},
			Annotations: map[string]string{"note": `say "hi"`},
		},
		Spec: corev1.PodSpec{NodeName: "node-a", ServiceAccountName: "sa"},
	}
}

var (
	kubeSvc = svc("default", "kubernetes", "10.0.0.1", corev1.ServicePort{Name: "https", Port: 443, Protocol: corev1.ProtocolTCP})
	kubeEnv = []string{
		"KUBERNETES_SERVICE_HOST=10.0.0.1",
		"KUBERNETES_SERVICE_PORT=443",
		"KUBERNETES_SERVICE_PORT_HTTPS=443",
		"KUBERNETES_PORT=tcp://10.0.0.1:443",
		"KUBERNETES_PORT_443_TCP=tcp://10.0.0.1:443",
		"KUBERNETES_PORT_443_TCP_PROTO=tcp",
		"KUBERNETES_PORT_443_TCP_PORT=443",
		"KUBERNETES_PORT_443_TCP_ADDR=10.0.0.1",
	}
)

func configMaps(ns, name string) (*corev1.ConfigMap, error) {
	switch {
	case ns == "team" && name == "cfg":
		return &corev1.ConfigMap{Data: map[string]string{"b": "2", "a": "1", "bad-key": "x", "1num": "y", "bad=key": "z", "bad\tkey": "z", "ünï": "z"}}, nil
	case name == "broken":
		return nil, errors.New("apiserver down")
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "configmaps"}, name)
}

func secrets(ns, name string) (*corev1.Secret, error) {
	if ns == "team" && name == "sec" {
		return &corev1.Secret{Data: map[string][]byte{"token": []byte("s3cr3t")}}, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, name)
}

func TestServiceEnv(t *testing.T) {
	web := svc("team", "my-web", "10.0.0.10",
		corev1.ServicePort{Port: 80},
		corev1.ServicePort{Name: "metrics-port", Port: 9090, Protocol: corev1.ProtocolUDP})
	webEnv := []string{
		"MY_WEB_SERVICE_HOST=10.0.0.10",
		"MY_WEB_SERVICE_PORT=80",
		"MY_WEB_SERVICE_PORT_METRICS_PORT=9090",
		"MY_WEB_PORT=tcp://10.0.0.10:80",
		"MY_WEB_PORT_80_TCP=tcp://10.0.0.10:80",
		"MY_WEB_PORT_80_TCP_PROTO=tcp",
		"MY_WEB_PORT_80_TCP_PORT=80",
		"MY_WEB_PORT_80_TCP_ADDR=10.0.0.10",
		"MY_WEB_PORT_9090_UDP=udp://10.0.0.10:9090",
		"MY_WEB_PORT_9090_UDP_PROTO=udp",
		"MY_WEB_PORT_9090_UDP_PORT=9090",
		"MY_WEB_PORT_9090_UDP_ADDR=10.0.0.10",
	}
	v6 := svc("team", "v6", "fd00::5", corev1.ServicePort{Port: 53, Protocol: corev1.ProtocolSCTP})
	v6Env := []string{
		"V6_SERVICE_HOST=fd00::5",
		"V6_SERVICE_PORT=53",
		"V6_PORT=sctp://[fd00::5]:53",
		"V6_PORT_53_SCTP=sctp://[fd00::5]:53",
		"V6_PORT_53_SCTP_PROTO=sctp",
		"V6_PORT_53_SCTP_PORT=53",
		"V6_PORT_53_SCTP_ADDR=fd00::5",
	}
	others := []*corev1.Service{
		svc("team", "headless", "None", corev1.ServicePort{Port: 80}),
		svc("team", "noip", "", corev1.ServicePort{Port: 80}),
		svc("other", "elsewhere", "10.0.0.20", corev1.ServicePort{Port: 80}),
		svc("default", "not-master", "10.0.0.21", corev1.ServicePort{Port: 80}),
		nil,
	}
	all := append([]*corev1.Service{v6, web, kubeSvc}, others...)
	cat := func(parts ...[]string) []string {
		var out []string
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	tests := []struct {
		name  string
		links *bool
		svcs  []*corev1.Service
		want  []string
	}{
		{"links unset: sorted by service name", nil, all, cat(kubeEnv, webEnv, v6Env)},
		{"links true", ptr(true), all, cat(kubeEnv, webEnv, v6Env)},
		{"links false keeps the master service", ptr(false), all, kubeEnv},
		{"no services", nil, nil, []string{}},
		{"local kubernetes service wins", nil, []*corev1.Service{kubeSvc, svc("team", "kubernetes", "10.0.0.99", corev1.ServicePort{Port: 1})},
			[]string{"KUBERNETES_SERVICE_HOST=10.0.0.99", "KUBERNETES_SERVICE_PORT=1", "KUBERNETES_PORT=tcp://10.0.0.99:1",
				"KUBERNETES_PORT_1_TCP=tcp://10.0.0.99:1", "KUBERNETES_PORT_1_TCP_PROTO=tcp", "KUBERNETES_PORT_1_TCP_PORT=1", "KUBERNETES_PORT_1_TCP_ADDR=10.0.0.99"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := testPod()
			pod.Spec.EnableServiceLinks = tt.links
			got, err := Env(EnvInput{Pod: pod, Container: &corev1.Container{}, Services: tt.svcs})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestEnvSources(t *testing.T) {
	fieldEnv := func(name, path string) corev1.EnvVar {
		return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: path}}}
	}
	tests := []struct {
		name    string
		ctr     corev1.Container
		want    []string
		wantErr string
	}{
		{
			name: "envFrom: sorted keys, prefix, invalid keys skipped, env overrides in place",
			ctr: corev1.Container{
				EnvFrom: []corev1.EnvFromSource{
					{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}},
					{Prefix: "S_", SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}}},
					{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "gone"}, Optional: ptr(true)}},
					{Prefix: "P_", ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}},
				},
				Env: []corev1.EnvVar{{Name: "a", Value: "over"}, {Name: "NEW", Value: "n"}},
			},
			want: []string{"1num=y", "a=over", "b=2", "bad-key=x", "S_token=s3cr3t", "P_1num=y", "P_a=1", "P_b=2", "P_bad-key=x", "NEW=n"},
		},
		{
			name: "field refs",
			ctr: corev1.Container{Env: []corev1.EnvVar{
				fieldEnv("NAME", "metadata.name"), fieldEnv("NS", "metadata.namespace"), fieldEnv("UID", "metadata.uid"),
				fieldEnv("APP", "metadata.labels['app']"), fieldEnv("MISSING", "metadata.labels['nope']"),
				fieldEnv("NOTE", "metadata.annotations['note']"), fieldEnv("LABELS", "metadata.labels"),
				fieldEnv("NODE", "spec.nodeName"), fieldEnv("SA", "spec.serviceAccountName"),
				fieldEnv("HOST_IP", "status.hostIP"), fieldEnv("HOST_IPS", "status.hostIPs"),
				fieldEnv("POD_IP", "status.podIP"), fieldEnv("POD_IPS", "status.podIPs"),
				{Name: "V1", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}},
			}},
			want: []string{"NAME=web-0", "NS=team", "UID=uid-1", "APP=web", "MISSING=", `NOTE=say "hi"`,
				"LABELS=app=\"web\"\ntier=\"front\"", "NODE=node-a", "SA=sa", "HOST_IP=192.168.1.5",
				"HOST_IPS=192.168.1.5,fd00:1::5", "POD_IP=10.244.1.7", "POD_IPS=10.244.1.7,fd00:244::7", "V1=web-0"},
		},
		{
			name:    "unsupported field path",
			ctr:     corev1.Container{Env: []corev1.EnvVar{fieldEnv("X", "spec.hostname")}},
			wantErr: "env X: unsupported fieldPath: spec.hostname",
		},
		{
			name: "unsupported api version",
			ctr: corev1.Container{Env: []corev1.EnvVar{{Name: "X", ValueFrom: &corev1.EnvVarSource{
				FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v2", FieldPath: "metadata.name"}}}}},
			wantErr: "env X: unsupported pod version: v2",
		},
		{
			name: "key refs and optional",
			ctr: corev1.Container{Env: []corev1.EnvVar{
				{Name: "CM", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: cmKey("cfg", "a", false)}},
				{Name: "SEC", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: secKey("sec", "token", false)}},
				{Name: "OPT_KEY", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: cmKey("cfg", "zzz", true)}},
				{Name: "OPT_OBJ", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: secKey("gone", "k", true)}},
				{Name: "EMPTY"},
			}},
			want: []string{"CM=1", "SEC=s3cr3t", "EMPTY="},
		},
		{
			name:    "missing configmap key",
			ctr:     corev1.Container{Env: []corev1.EnvVar{{Name: "X", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: cmKey("cfg", "zzz", false)}}}},
			wantErr: "couldn't find key zzz in ConfigMap team/cfg",
		},
		{
			name:    "missing secret key",
			ctr:     corev1.Container{Env: []corev1.EnvVar{{Name: "X", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: secKey("sec", "zzz", false)}}}},
			wantErr: "couldn't find key zzz in Secret team/sec",
		},
		{
			name:    "missing required configmap",
			ctr:     corev1.Container{Env: []corev1.EnvVar{{Name: "X", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: cmKey("gone", "k", false)}}}},
			wantErr: `get ConfigMap team/gone: configmaps "gone" not found`,
		},
		{
			name:    "lookup failure is not hidden by optional",
			ctr:     corev1.Container{Env: []corev1.EnvVar{{Name: "X", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: cmKey("broken", "k", true)}}}},
			wantErr: "get ConfigMap team/broken: apiserver down",
		},
		{
			name: "missing required envFrom secret",
			ctr: corev1.Container{EnvFrom: []corev1.EnvFromSource{
				{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "gone"}}}}},
			wantErr: `get Secret team/gone: secrets "gone" not found`,
		},
		{
			name: "expansion: earlier vars, envFrom, services; not later vars; not valueFrom",
			ctr: corev1.Container{
				EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}}},
				Env: []corev1.EnvVar{
					{Name: "X", Value: "$(a)-$(LATER)-$(KUBERNETES_SERVICE_HOST)"},
					{Name: "Y", Value: "$(X)/$$(X)"},
					{Name: "LATER", Value: "l"},
					{Name: "KUBERNETES_SERVICE_HOST", Value: "$(KUBERNETES_SERVICE_HOST)!"},
					{Name: "Z", Value: "$(KUBERNETES_SERVICE_HOST)"},
				},
			},
			want: append(append([]string(nil), kubeEnv[1:]...), "1num=y", "a=1", "b=2", "bad-key=x",
				"X=1-$(LATER)-10.0.0.1", "Y=1-$(LATER)-10.0.0.1/$(X)", "LATER=l", "KUBERNETES_SERVICE_HOST=10.0.0.1!", "Z=10.0.0.1!"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctr := tt.ctr
			in := EnvInput{
				Pod: testPod(), Container: &ctr, ConfigMap: configMaps, Secret: secrets,
				HostIP: "192.168.1.5", HostIPs: []string{"192.168.1.5", "fd00:1::5"},
				PodIPs: []string{"10.244.1.7", "fd00:244::7"},
			}
			if strings.HasPrefix(tt.name, "expansion") {
				in.Services = []*corev1.Service{kubeSvc}
			}
			got, err := Env(in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func cmKey(name, key string, optional bool) *corev1.ConfigMapKeySelector {
	return &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key, Optional: &optional}
}

func secKey(name, key string, optional bool) *corev1.SecretKeySelector {
	return &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key, Optional: &optional}
}

func TestEnvResources(t *testing.T) {
	ctr := corev1.Container{Resources: corev1.ResourceRequirements{
		Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1500m")},
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
	}}
	alloc := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("4Gi")}
	tests := []struct {
		res, divisor, want, wantErr string
	}{
		{res: "limits.cpu", want: "2"},
		{res: "limits.cpu", divisor: "1m", want: "1500"},
		{res: "limits.memory", want: "4294967296"},
		{res: "limits.memory", divisor: "1Mi", want: "4096"},
		{res: "requests.cpu", divisor: "100m", want: "3"},
		{res: "requests.memory", divisor: "1Mi", want: "64"},
		{res: "requests.ephemeral-storage", want: "0"},
		{res: "limits.nvidia.com/gpu", wantErr: "env R: unsupported container resource : limits.nvidia.com/gpu"},
		{res: "cpu", wantErr: "env R: unsupported container resource : cpu"},
	}
	for _, tt := range tests {
		t.Run(tt.res+"/"+tt.divisor, func(t *testing.T) {
			sel := &corev1.ResourceFieldSelector{Resource: tt.res}
			if tt.divisor != "" {
				sel.Divisor = resource.MustParse(tt.divisor)
			}
			c := ctr
			c.Env = []corev1.EnvVar{{Name: "R", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: sel}}}
			got, err := Env(EnvInput{Pod: testPod(), Container: &c, NodeAllocatable: alloc})
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"R=" + tt.want}; !reflect.DeepEqual(got, want) {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

func TestEnvHostIPFallback(t *testing.T) {
	c := corev1.Container{Env: []corev1.EnvVar{
		{Name: "A", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.hostIP"}}},
		{Name: "B", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.hostIPs"}}},
		{Name: "C", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
	}}
	tests := []struct {
		hostIP  string
		hostIPs []string
		want    []string
	}{
		{"", []string{"10.1.0.1", "fd00::1"}, []string{"A=10.1.0.1", "B=10.1.0.1,fd00::1", "C="}},
		{"10.1.0.2", nil, []string{"A=10.1.0.2", "B=10.1.0.2", "C="}},
	}
	for _, tt := range tests {
		got, err := Env(EnvInput{Pod: testPod(), Container: &c, HostIP: tt.hostIP, HostIPs: tt.hostIPs})
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("got %q %v, want %q", got, err, tt.want)
		}
	}
}

func TestEnvBadInput(t *testing.T) {
	if _, err := Env(EnvInput{}); err == nil {
		t.Error("no error for an empty input")
	}
	c := corev1.Container{Env: []corev1.EnvVar{{Name: "X", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: cmKey("cfg", "a", false)}}}}
	_, err := Env(EnvInput{Pod: testPod(), Container: &c})
	if err == nil || !strings.Contains(err.Error(), "no ConfigMap lookup") {
		t.Errorf("error %v, want a missing lookup error", err)
	}
}
