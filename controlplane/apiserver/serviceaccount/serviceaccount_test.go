package serviceaccount

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const issuer = "https://kubernetes.default.svc.cluster.local"

func newSigner(t *testing.T) *Signer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fakeGetter holds objects by namespace/name.
type fakeGetter struct {
	accounts map[string]*corev1.ServiceAccount
	pods     map[string]*corev1.Pod
	secrets  map[string]*corev1.Secret
}

func get[T any](m map[string]*T, resource, ns, name string) (*T, error) {
	if o, ok := m[ns+"/"+name]; ok {
		return o, nil
	}
	return nil, apierrors.NewNotFound(corev1.Resource(resource), name)
}

func (f fakeGetter) ServiceAccount(_ context.Context, ns, name string) (*corev1.ServiceAccount, error) {
	return get(f.accounts, "serviceaccounts", ns, name)
}
func (f fakeGetter) Pod(_ context.Context, ns, name string) (*corev1.Pod, error) {
	return get(f.pods, "pods", ns, name)
}
func (f fakeGetter) Secret(_ context.Context, ns, name string) (*corev1.Secret, error) {
	return get(f.secrets, "secrets", ns, name)
}

func goodClaims(now time.Time) Claims {
	return Claims{
		Issuer: issuer, Subject: Subject("ns1", "robot"), Audience: Audiences{issuer},
		Expiry: now.Add(time.Hour).Unix(), IssuedAt: now.Unix(), NotBefore: now.Unix(), ID: "j1",
		Kubernetes: &Private{Namespace: "ns1", ServiceAccount: Ref{Name: "robot", UID: "sa-uid"},
			Pod: &Ref{Name: "p1", UID: "pod-uid"}},
	}
}

func TestAuthenticateToken(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	signer, other := newSigner(t), newSigner(t)
	objects := func() fakeGetter {
		return fakeGetter{
			accounts: map[string]*corev1.ServiceAccount{"ns1/robot": {ObjectMeta: metav1.ObjectMeta{Name: "robot", Namespace: "ns1", UID: "sa-uid"}}},
			pods:     map[string]*corev1.Pod{"ns1/p1": {ObjectMeta: metav1.ObjectMeta{Name: "p1", Namespace: "ns1", UID: "pod-uid"}}},
		}
	}
	cases := []struct {
		name    string
		claims  func(c *Claims)
		signer  *Signer
		objects func(g fakeGetter)
		wantErr string
	}{
		{name: "good"},
		{name: "one of several audiences", claims: func(c *Claims) { c.Audience = Audiences{"x", issuer} }},
		{name: "expired", claims: func(c *Claims) { c.Expiry = now.Add(-2 * time.Minute).Unix() }, wantErr: "expired"},
		{name: "expired within leeway", claims: func(c *Claims) { c.Expiry = now.Add(-30 * time.Second).Unix() }},
		{name: "not yet valid", claims: func(c *Claims) { c.NotBefore = now.Add(5 * time.Minute).Unix() }, wantErr: "not valid yet"},
		{name: "wrong issuer", claims: func(c *Claims) { c.Issuer = "https://elsewhere" }, wantErr: "issuer"},
		{name: "wrong audience", claims: func(c *Claims) { c.Audience = Audiences{"vault"} }, wantErr: "audiences"},
		{name: "bad signature", signer: other, wantErr: "invalid signature"},
		{name: "subject does not match claim", claims: func(c *Claims) { c.Subject = Subject("ns1", "other") }, wantErr: "subject"},
		{name: "no private claim", claims: func(c *Claims) { c.Kubernetes = nil }, wantErr: "kubernetes.io"},
		{name: "service account deleted", objects: func(g fakeGetter) { delete(g.accounts, "ns1/robot") }, wantErr: "no longer exists"},
		{name: "service account recreated", objects: func(g fakeGetter) { g.accounts["ns1/robot"].UID = "new" }, wantErr: "uid"},
		{name: "pod deleted", objects: func(g fakeGetter) { delete(g.pods, "ns1/p1") }, wantErr: "pod \"p1\" bound to the token no longer exists"},
		{name: "pod recreated", objects: func(g fakeGetter) { g.pods["ns1/p1"].UID = "new" }, wantErr: "uid"},
		{name: "pod deleting within grace", objects: func(g fakeGetter) {
			g.pods["ns1/p1"].DeletionTimestamp = &metav1.Time{Time: now.Add(-30 * time.Second)}
		}},
		{name: "pod deleting for long", objects: func(g fakeGetter) {
			g.pods["ns1/p1"].DeletionTimestamp = &metav1.Time{Time: now.Add(-2 * time.Minute)}
		}, wantErr: "being deleted"},
		{name: "secret bound and missing", claims: func(c *Claims) { c.Kubernetes.Secret = &Ref{Name: "s1", UID: "u"} }, wantErr: "secret"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := goodClaims(now)
			if tc.claims != nil {
				tc.claims(&c)
			}
			s := signer
			if tc.signer != nil {
				s = tc.signer
			}
			tok, err := s.Sign(c)
			if err != nil {
				t.Fatal(err)
			}
			g := objects()
			if tc.objects != nil {
				tc.objects(g)
			}
			v, _ := NewVerifier(signer.Public())
			a, err := NewAuthenticator(AuthenticatorConfig{Verifier: v, Issuer: issuer, Getter: g, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			u, err := a.AuthenticateToken(context.Background(), tok)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u.Name != "system:serviceaccount:ns1:robot" || u.UID != "sa-uid" ||
				!slices.Equal(u.Groups, []string{"system:serviceaccounts", "system:serviceaccounts:ns1"}) {
				t.Fatalf("user = %+v", u)
			}
		})
	}
}

func TestVerifyRejectsGarbage(t *testing.T) {
	v, _ := NewVerifier(newSigner(t).Public())
	for _, tok := range []string{"", "abc", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", "eyJhbGciOiJIUzI1NiJ9.e30.AAAA"} {
		if _, err := v.Verify(tok); err == nil {
			t.Errorf("Verify(%q) accepted", tok)
		}
	}
}

func TestSplitSubject(t *testing.T) {
	cases := []struct {
		in       string
		ns, name string
		ok       bool
	}{
		{"system:serviceaccount:kube-system:default", "kube-system", "default", true},
		{"system:serviceaccount:ns", "", "", false},
		{"system:serviceaccount::x", "", "", false},
		{"system:serviceaccount:a:b:c", "a", "", false},
		{"admin", "", "", false},
	}
	for _, tc := range cases {
		ns, name, ok := SplitSubject(tc.in)
		if ok != tc.ok || (ok && (ns != tc.ns || name != tc.name)) {
			t.Errorf("SplitSubject(%q) = %q %q %v", tc.in, ns, name, ok)
		}
	}
}

func TestMountAPIAccess(t *testing.T) {
	container := func(name string, mounts ...corev1.VolumeMount) corev1.Container {
		return corev1.Container{Name: name, VolumeMounts: mounts}
	}
	own := corev1.VolumeMount{Name: "mine", MountPath: MountPath}
	cases := []struct {
		name        string
		pod         corev1.PodSpec
		wantVolume  string // "" for no volume added
		wantMounted []bool // per init container then container
	}{
		{name: "every container gets the mount",
			pod:        corev1.PodSpec{InitContainers: []corev1.Container{container("i")}, Containers: []corev1.Container{container("a"), container("b")}},
			wantVolume: "kube-api-access-abcde", wantMounted: []bool{true, true, true}},
		{name: "an existing mount at the path is kept",
			pod:        corev1.PodSpec{Containers: []corev1.Container{container("a", own), container("b")}},
			wantVolume: "kube-api-access-abcde", wantMounted: []bool{false, true}},
		{name: "no volume when every container has its own",
			pod:         corev1.PodSpec{Containers: []corev1.Container{container("a", own)}},
			wantMounted: []bool{false}},
		{name: "an existing access volume is reused",
			pod: corev1.PodSpec{Volumes: []corev1.Volume{{Name: "kube-api-access-zzzzz"}},
				Containers: []corev1.Container{container("a")}},
			wantMounted: []bool{true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: *tc.pod.DeepCopy()}
			before := len(pod.Spec.Volumes)
			MountAPIAccess(pod, "abcde")
			if tc.wantVolume == "" && len(pod.Spec.Volumes) != before {
				t.Fatalf("volumes = %+v", pod.Spec.Volumes)
			}
			volName := "kube-api-access-zzzzz"
			if tc.wantVolume != "" {
				if len(pod.Spec.Volumes) != before+1 || pod.Spec.Volumes[before].Name != tc.wantVolume {
					t.Fatalf("volumes = %+v", pod.Spec.Volumes)
				}
				checkVolume(t, pod.Spec.Volumes[before])
				volName = tc.wantVolume
			}
			all := append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...)
			for i, c := range all {
				got := slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool {
					return m.Name == volName && m.ReadOnly && m.MountPath == MountPath
				})
				if got != tc.wantMounted[i] {
					t.Errorf("container %s mounts = %+v", c.Name, c.VolumeMounts)
				}
			}
		})
	}
}

func checkVolume(t *testing.T, v corev1.Volume) {
	t.Helper()
	p := v.Projected
	if p == nil || p.DefaultMode == nil || *p.DefaultMode != 0o644 || len(p.Sources) != 3 {
		t.Fatalf("volume = %+v", v)
	}
	tok, cm, dw := p.Sources[0].ServiceAccountToken, p.Sources[1].ConfigMap, p.Sources[2].DownwardAPI
	if tok == nil || *tok.ExpirationSeconds != 3607 || tok.Path != "token" {
		t.Errorf("token source = %+v", tok)
	}
	if cm == nil || cm.Name != "kube-root-ca.crt" || len(cm.Items) != 1 || cm.Items[0] != (corev1.KeyToPath{Key: "ca.crt", Path: "ca.crt"}) {
		t.Errorf("configmap source = %+v", cm)
	}
	if dw == nil || len(dw.Items) != 1 || dw.Items[0].Path != "namespace" || dw.Items[0].FieldRef.FieldPath != "metadata.namespace" {
		t.Errorf("downwardAPI source = %+v", dw)
	}
}

func TestShouldAutomount(t *testing.T) {
	yes, no := true, false
	cases := []struct {
		name    string
		pod, sa *bool
		want    bool
	}{
		{"both unset", nil, nil, true},
		{"service account opts out", nil, &no, false},
		{"pod opts out", &no, nil, false},
		{"pod overrides service account", &yes, &no, true},
		{"pod opt-out wins", &no, &yes, false},
	}
	for _, tc := range cases {
		pod := &corev1.Pod{Spec: corev1.PodSpec{AutomountServiceAccountToken: tc.pod}}
		sa := &corev1.ServiceAccount{AutomountServiceAccountToken: tc.sa}
		if got := ShouldAutomount(sa, pod); got != tc.want {
			t.Errorf("%s: got %v", tc.name, got)
		}
	}
}
