package apiserver_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"rudder/controlplane/apiserver/apiservertest"
	"rudder/controlplane/apiserver/serviceaccount"
)

// saServer starts an apiserver with service accounts on and returns its
// admin config and client.
func saServer(t *testing.T) (*rest.Config, kubernetes.Interface) {
	t.Helper()
	cfg := apiservertest.Start(t, apiservertest.WithServiceAccounts(t))
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, cs
}

func testPod(name, sa string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{ServiceAccountName: sa, Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
}

// claimsOf decodes a JWT's payload without verifying it.
func claimsOf(t *testing.T, tok string) serviceaccount.Claims {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c serviceaccount.Claims
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTokenRequest(t *testing.T) {
	_, cs := saServer(t)
	ctx := context.Background()
	sa, err := cs.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "robot"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod, err := cs.CoreV1().Pods("default").Create(ctx, testPod("p1", "robot"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Pods("default").Create(ctx, testPod("other", ""), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	podRef := func(name string, uid types.UID) *authnv1.BoundObjectReference {
		return &authnv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: name, UID: uid}
	}
	cases := []struct {
		name     string
		account  string
		spec     authnv1.TokenRequestSpec
		wantCode int32  // 0: success
		wantText string // in the error message
		wantExp  int64
		wantAud  []string
		// wantLife is the token's real lifetime when it differs from
		// wantExp (extended kubelet tokens).
		wantLife int64
	}{
		{name: "defaults", account: "robot", wantExp: 3600, wantAud: []string{apiservertest.Issuer}},
		{name: "lifetime and audience", account: "robot", spec: authnv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](7200), Audiences: []string{"vault"}},
			wantExp: 7200, wantAud: []string{"vault"}},
		{name: "lifetime capped at 48h", account: "robot", spec: authnv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](10 * 86400)},
			wantExp: 48 * 3600, wantAud: []string{apiservertest.Issuer}},
		{name: "bound to its pod", account: "robot", spec: authnv1.TokenRequestSpec{BoundObjectRef: podRef("p1", pod.UID)},
			wantExp: 3600, wantAud: []string{apiservertest.Issuer}},
		{name: "kubelet token bound to its pod is extended", account: "robot",
			spec:    authnv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3607), BoundObjectRef: podRef("p1", pod.UID)},
			wantExp: 3607, wantAud: []string{apiservertest.Issuer}, wantLife: 365 * 86400},
		{name: "3607 s without a pod is not extended", account: "robot", spec: authnv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3607)},
			wantExp: 3607, wantAud: []string{apiservertest.Issuer}},
		{name: "missing service account", account: "ghost", wantCode: 404, wantText: `serviceaccounts "ghost" not found`},
		{name: "lifetime too short", account: "robot", spec: authnv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](100)},
			wantCode: 422, wantText: "spec.expirationSeconds"},
		{name: "bound pod missing", account: "robot", spec: authnv1.TokenRequestSpec{BoundObjectRef: podRef("gone", "")},
			wantCode: 404, wantText: `pods "gone" not found`},
		{name: "bound pod uid mismatch", account: "robot", spec: authnv1.TokenRequestSpec{BoundObjectRef: podRef("p1", "not-the-uid")},
			wantCode: 409, wantText: "spec.boundObjectRef.uid"},
		{name: "bound pod runs as another account", account: "robot", spec: authnv1.TokenRequestSpec{BoundObjectRef: podRef("other", "")},
			wantCode: 400, wantText: "different serviceaccount"},
		{name: "bound kind unsupported", account: "robot", spec: authnv1.TokenRequestSpec{BoundObjectRef: &authnv1.BoundObjectReference{Kind: "Node", Name: "n1"}},
			wantCode: 422, wantText: "spec.boundObjectRef.kind"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := time.Now().Add(-time.Second)
			out, err := cs.CoreV1().ServiceAccounts("default").CreateToken(ctx, tc.account, &authnv1.TokenRequest{Spec: tc.spec}, metav1.CreateOptions{})
			if tc.wantCode != 0 {
				st, ok := err.(apierrors.APIStatus)
				if !ok || st.Status().Code != tc.wantCode || !strings.Contains(st.Status().Message, tc.wantText) {
					t.Fatalf("err = %v, want %d with %q", err, tc.wantCode, tc.wantText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *out.Spec.ExpirationSeconds != tc.wantExp || !slices.Equal(out.Spec.Audiences, tc.wantAud) {
				t.Errorf("spec = %+v", out.Spec)
			}
			c := claimsOf(t, out.Status.Token)
			life := tc.wantExp
			if tc.wantLife != 0 {
				life = tc.wantLife
				if c.Kubernetes == nil || c.Kubernetes.WarnAfter != c.IssuedAt+tc.wantExp {
					t.Errorf("extended token: warnafter claim = %+v, want iat+%d", c.Kubernetes, tc.wantExp)
				}
			}
			if c.Issuer != apiservertest.Issuer || c.Subject != "system:serviceaccount:default:"+tc.account ||
				!slices.Equal([]string(c.Audience), tc.wantAud) || c.Expiry-c.IssuedAt != life || c.NotBefore == 0 {
				t.Errorf("claims = %+v", c)
			}
			if c.Kubernetes == nil || c.Kubernetes.Namespace != "default" || c.Kubernetes.ServiceAccount != (serviceaccount.Ref{Name: "robot", UID: string(sa.UID)}) {
				t.Errorf("kubernetes.io claim = %+v", c.Kubernetes)
			}
			if tc.spec.BoundObjectRef != nil && (c.Kubernetes.Pod == nil || *c.Kubernetes.Pod != (serviceaccount.Ref{Name: "p1", UID: string(pod.UID)})) {
				t.Errorf("pod claim = %+v", c.Kubernetes.Pod)
			}
			exp := out.Status.ExpirationTimestamp.Time
			if exp.Before(before.Add(time.Duration(tc.wantExp)*time.Second)) || exp.After(time.Now().Add(time.Duration(tc.wantExp+1)*time.Second)) {
				t.Errorf("expirationTimestamp = %v", exp)
			}
		})
	}
}

func TestDiscoveryListsTokenSubresource(t *testing.T) {
	_, cs := saServer(t)
	list, err := cs.Discovery().ServerResourcesForGroupVersion("v1")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range list.APIResources {
		if r.Name == "serviceaccounts/token" {
			if r.Kind != "TokenRequest" || r.Group != "authentication.k8s.io" || !slices.Equal(r.Verbs, []string{"create"}) {
				t.Fatalf("serviceaccounts/token = %+v", r)
			}
			return
		}
	}
	t.Fatal("discovery does not list serviceaccounts/token")
}

// canList tells whether a bearer token is accepted.
func canList(t *testing.T, admin *rest.Config, token string) bool {
	t.Helper()
	cfg := rest.CopyConfig(admin)
	cfg.BearerToken = token
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cs.CoreV1().ConfigMaps("default").List(context.Background(), metav1.ListOptions{})
	if err != nil && !apierrors.IsUnauthorized(err) {
		t.Fatalf("list with token: %v", err)
	}
	return err == nil
}

func TestServiceAccountTokenAuthentication(t *testing.T) {
	admin, cs := saServer(t)
	ctx := context.Background()
	token := func(t *testing.T, account string, spec authnv1.TokenRequestSpec) string {
		t.Helper()
		out, err := cs.CoreV1().ServiceAccounts("default").CreateToken(ctx, account, &authnv1.TokenRequest{Spec: spec}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return out.Status.Token
	}
	if _, err := cs.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "robot"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod, err := cs.CoreV1().Pods("default").Create(ctx, testPod("p1", "robot"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	plain := token(t, "robot", authnv1.TokenRequestSpec{})
	bound := token(t, "robot", authnv1.TokenRequestSpec{BoundObjectRef: &authnv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: "p1", UID: pod.UID}})
	foreign := token(t, "robot", authnv1.TokenRequestSpec{Audiences: []string{"vault"}})
	forged := plain[:strings.LastIndex(plain, ".")+1] + strings.Repeat("A", 86)

	checks := []struct {
		step  string
		token string
		want  bool
	}{
		{"plain token", plain, true},
		{"pod-bound token", bound, true},
		{"other audience", foreign, false},
		{"bad signature", forged, false},
		{"garbage", "not-a-token", false},
	}
	for _, c := range checks {
		if got := canList(t, admin, c.token); got != c.want {
			t.Errorf("%s: accepted = %v, want %v", c.step, got, c.want)
		}
	}
	if err := cs.CoreV1().Pods("default").Delete(ctx, "p1", metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil {
		t.Fatal(err)
	}
	if canList(t, admin, bound) {
		t.Error("token bound to a deleted pod is accepted")
	}
	if !canList(t, admin, plain) {
		t.Error("unbound token rejected after the pod went")
	}
	if err := cs.CoreV1().ServiceAccounts("default").Delete(ctx, "robot", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "robot"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if canList(t, admin, plain) {
		t.Error("token of a deleted (and recreated) service account is accepted")
	}
}

func TestServiceAccountAdmission(t *testing.T) {
	_, cs := saServer(t)
	ctx := context.Background()
	no := false
	for _, sa := range []*corev1.ServiceAccount{
		{ObjectMeta: metav1.ObjectMeta{Name: "quiet"}, AutomountServiceAccountToken: &no},
	} {
		if _, err := cs.CoreV1().ServiceAccounts("default").Create(ctx, sa, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	ownMount := testPod("own", "")
	ownMount.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "busybox"}}
	ownMount.Spec.Containers = append(ownMount.Spec.Containers, corev1.Container{Name: "d", Image: "busybox",
		VolumeMounts: []corev1.VolumeMount{{Name: "mine", MountPath: serviceaccount.MountPath}}})
	ownMount.Spec.Volumes = []corev1.Volume{{Name: "mine", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	podOptOut := testPod("optout", "")
	podOptOut.Spec.AutomountServiceAccountToken = &no
	mirror := testPod("mirror", "")
	mirror.Annotations = map[string]string{serviceaccount.MirrorPodAnnotation: "x"}

	cases := []struct {
		name      string
		pod       *corev1.Pod
		wantSA    string
		wantMount []bool // init containers, then containers
	}{
		{name: "default account, volume mounted", pod: testPod("plain", ""), wantSA: "default", wantMount: []bool{true}},
		{name: "existing mount at the path kept", pod: ownMount, wantSA: "default", wantMount: []bool{true, true, false}},
		{name: "pod opts out", pod: podOptOut, wantSA: "default", wantMount: []bool{false}},
		{name: "service account opts out", pod: testPod("quiet", "quiet"), wantSA: "quiet", wantMount: []bool{false}},
		{name: "mirror pod untouched", pod: mirror, wantSA: "default", wantMount: []bool{false}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := cs.CoreV1().Pods("default").Create(ctx, tc.pod, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if out.Spec.ServiceAccountName != tc.wantSA {
				t.Errorf("serviceAccountName = %q", out.Spec.ServiceAccountName)
			}
			var access string
			for _, v := range out.Spec.Volumes {
				if strings.HasPrefix(v.Name, serviceaccount.VolumePrefix) && v.Projected != nil {
					access = v.Name
				}
			}
			if want := slices.Contains(tc.wantMount, true); (access != "") != want || (want && len(access) != len("kube-api-access-")+5) {
				t.Fatalf("access volume %q, want one: %v (volumes %+v)", access, want, out.Spec.Volumes)
			}
			all := append(append([]corev1.Container{}, out.Spec.InitContainers...), out.Spec.Containers...)
			for i, c := range all {
				got := slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool {
					return m.Name == access && m.ReadOnly && m.MountPath == serviceaccount.MountPath
				})
				if got != tc.wantMount[i] {
					t.Errorf("container %s mounts %+v", c.Name, c.VolumeMounts)
				}
			}
		})
	}
}

func TestServiceAccountAdmissionRejectsMissingAccount(t *testing.T) {
	_, cs := saServer(t)
	ctx := context.Background()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "fresh"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ ns, sa, want string }{
		{"default", "ghost", `error looking up service account default/ghost: serviceaccounts "ghost" not found`},
		{"fresh", "", `error looking up service account fresh/default`},
	}
	for _, tc := range cases {
		_, err := cs.CoreV1().Pods(tc.ns).Create(ctx, testPod("p", tc.sa), metav1.CreateOptions{})
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s/%q: err = %v, want Forbidden with %q", tc.ns, tc.sa, err, tc.want)
		}
	}
}
