package volumes

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func i32(v int32) *int32 { return &v }
func i64(v int64) *int64 { return &v }
func yes() *bool         { b := true; return &b }

// objects are the config maps and secrets the fake lookups know.
type objects struct {
	cms     map[string]*corev1.ConfigMap
	secrets map[string]*corev1.Secret
}

func (o *objects) configMap(ns, name string) (*corev1.ConfigMap, error) {
	if cm, ok := o.cms[ns+"/"+name]; ok {
		return cm, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "configmaps"}, name)
}

func (o *objects) secret(ns, name string) (*corev1.Secret, error) {
	if s, ok := o.secrets[ns+"/"+name]; ok {
		return s, nil
	}
	return nil, nil // (nil, nil) also means missing
}

func testObjects() *objects {
	return &objects{
		cms: map[string]*corev1.ConfigMap{"ns/cm": {
			Data:       map[string]string{"a": "alpha", "b": "beta"},
			BinaryData: map[string][]byte{"bin": {0, 1, 2}},
		}},
		secrets: map[string]*corev1.Secret{"ns/sec": {Data: map[string][]byte{"user": []byte("root"), "pass": []byte("pw")}}},
	}
}

func testPod(vols ...corev1.Volume) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "u-1",
			Labels:      map[string]string{"app": "web", "tier": "front\"end"},
			Annotations: map[string]string{"note": "x"}},
		Spec: corev1.PodSpec{Volumes: vols, Containers: []corev1.Container{{Name: "c",
			Resources: corev1.ResourceRequirements{
				Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")},
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")},
			}}}},
	}
}

func input(t *testing.T, pod *corev1.Pod) SetupInput {
	o := testObjects()
	return SetupInput{
		PodDir: t.TempDir(), Pod: pod, ConfigMap: o.configMap, Secret: o.secret,
		Token: func(_ context.Context, p *corev1.Pod, aud string, exp int64) (string, error) {
			return "token-" + p.Name + "-" + aud, nil
		},
		NodeAllocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")},
	}
}

// tree lists a volume directory as path -> content for files (modes
// appended), following the user-visible symlinks.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "..") {
			continue
		}
		walkVisible(t, filepath.Join(dir, e.Name()), e.Name(), out)
	}
	return out
}

func walkVisible(t *testing.T, path, rel string, out map[string]string) {
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.IsDir() {
		b, _ := os.ReadFile(path)
		out[rel] = string(b) + " " + fi.Mode().Perm().String()
		return
	}
	entries, _ := os.ReadDir(path)
	for _, e := range entries {
		walkVisible(t, filepath.Join(path, e.Name()), rel+"/"+e.Name(), out)
	}
}

func vol(name string, src corev1.VolumeSource) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: src}
}

func TestSetupProjectedKinds(t *testing.T) {
	tests := []struct {
		name    string
		src     corev1.VolumeSource
		kind    string
		want    map[string]string
		wantErr string
	}{
		{name: "configMap all keys", kind: KindConfigMap,
			src:  corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}}},
			want: map[string]string{"a": "alpha -rw-r--r--", "b": "beta -rw-r--r--", "bin": "\x00\x01\x02 -rw-r--r--"}},
		{name: "configMap items, modes", kind: KindConfigMap,
			src: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"},
				DefaultMode: i32(0o400), Items: []corev1.KeyToPath{{Key: "a", Path: "dir/first"}, {Key: "b", Path: "second", Mode: i32(0o600)}}}},
			want: map[string]string{"dir/first": "alpha -r--------", "second": "beta -rw-------"}},
		{name: "configMap missing key", kind: KindConfigMap,
			src: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"},
				Items: []corev1.KeyToPath{{Key: "zz", Path: "z"}}}},
			wantErr: "configmap references non-existent config key: zz"},
		{name: "configMap missing key, optional", kind: KindConfigMap,
			src: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"},
				Optional: yes(), Items: []corev1.KeyToPath{{Key: "zz", Path: "z"}, {Key: "a", Path: "a"}}}},
			want: map[string]string{"a": "alpha -rw-r--r--"}},
		{name: "configMap missing", kind: KindConfigMap,
			src:     corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "gone"}}},
			wantErr: `configmap "gone" not found`},
		{name: "configMap missing, optional", kind: KindConfigMap,
			src:  corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "gone"}, Optional: yes()}},
			want: map[string]string{}},
		{name: "configMap bad path", kind: KindConfigMap,
			src: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"},
				Items: []corev1.KeyToPath{{Key: "a", Path: "../escape"}}}},
			wantErr: "must not start with '..'"},
		{name: "secret all keys", kind: KindSecret,
			src:  corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "sec", DefaultMode: i32(0o440)}},
			want: map[string]string{"user": "root -r--r-----", "pass": "pw -r--r-----"}},
		{name: "secret missing key", kind: KindSecret,
			src:     corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "sec", Items: []corev1.KeyToPath{{Key: "nope", Path: "n"}}}},
			wantErr: "secret references non-existent secret key: nope"},
		{name: "secret missing", kind: KindSecret,
			src:     corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "gone"}},
			wantErr: `secret "gone" not found`},
		{name: "downwardAPI", kind: KindDownwardAPI,
			src: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{
				{Path: "name", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}},
				{Path: "ns", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}},
				{Path: "uid", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.uid"}, Mode: i32(0o600)},
				{Path: "labels", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels"}},
				{Path: "annotations", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.annotations"}},
				{Path: "app", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['app']"}},
				{Path: "mem", ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "c", Resource: "limits.memory", Divisor: resource.MustParse("1Mi")}},
				{Path: "cpu-limit", ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "c", Resource: "limits.cpu"}},
				{Path: "cpu-req", ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "c", Resource: "requests.cpu", Divisor: resource.MustParse("1m")}},
				{Path: "cpu-req-cores", ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "c", Resource: "requests.cpu"}},
			}}},
			want: map[string]string{
				"name": "web -rw-r--r--", "ns": "ns -rw-r--r--", "uid": "u-1 -rw-------",
				"labels":      "app=\"web\"\ntier=\"front\\\"end\" -rw-r--r--",
				"annotations": "note=\"x\" -rw-r--r--", "app": "web -rw-r--r--",
				"mem": "64 -rw-r--r--", "cpu-limit": "2 -rw-r--r--", "cpu-req": "250 -rw-r--r--", "cpu-req-cores": "1 -rw-r--r--",
			}},
		{name: "downwardAPI bad field", kind: KindDownwardAPI,
			src: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{
				{Path: "ip", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}}}},
			wantErr: `unsupported fieldRef path "status.podIP"`},
		{name: "projected", kind: KindProjected,
			src: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{DefaultMode: i32(0o640), Sources: []corev1.VolumeProjection{
				{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}, Items: []corev1.KeyToPath{{Key: "a", Path: "cfg/a"}}}},
				{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}, Items: []corev1.KeyToPath{{Key: "user", Path: "user", Mode: i32(0o400)}}}},
				{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "gone"}, Optional: yes()}},
				{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "name", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}}},
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", Audience: "api", ExpirationSeconds: i64(600)}},
			}}},
			want: map[string]string{"cfg/a": "alpha -rw-r-----", "user": "root -r--------", "name": "web -rw-r-----", "token": "token-web-api -rw-r-----"}},
		{name: "projected missing secret", kind: KindProjected,
			src: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "gone"}}}}}},
			wantErr: `secret "gone" not found`},
		{name: "unsupported", kind: KindProjected,
			src:     corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "c"}},
			wantErr: `volume "v": volume type persistentVolumeClaim is not supported`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := input(t, testPod(vol("v", tc.src)))
			dirs, err := Setup(in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				if _, ok := dirs["v"]; ok {
					t.Error("failed volume returned")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			d := dirs["v"]
			if want := filepath.Join(in.PodDir, "volumes", tc.kind, "v"); d.Path != want || !d.ReadOnly {
				t.Fatalf("dir %+v, want %s read-only", d, want)
			}
			got := tree(t, d.Path)
			if len(got) != len(tc.want) {
				t.Errorf("files %v, want %v", keys(got), keys(tc.want))
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestSetupTokenWithoutSource(t *testing.T) {
	in := input(t, testPod(vol("tok", corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
		{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}}}}})))
	in.Token = nil
	if _, err := Setup(in); err == nil || !strings.Contains(err.Error(), "no token source configured") {
		t.Fatalf("error %v", err)
	}
	in = input(t, in.Pod)
	in.Token = func(context.Context, *corev1.Pod, string, int64) (string, error) { return "", errors.New("denied") }
	if _, err := Setup(in); err == nil || !strings.Contains(err.Error(), "denied") {
		t.Fatalf("error %v", err)
	}
}

func TestSetupEmptyDir(t *testing.T) {
	in := input(t, testPod(
		vol("scratch", corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}),
		vol("mem", corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}})))
	dirs, err := Setup(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"scratch", "mem"} {
		d := dirs[name]
		if d.Path != filepath.Join(in.PodDir, "volumes", KindEmptyDir, name) || d.ReadOnly {
			t.Errorf("%s: %+v", name, d)
		}
		fi, err := os.Stat(d.Path)
		if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o777 {
			t.Errorf("%s: %v %v", name, fi, err)
		}
	}
	// Setup again keeps what the pod wrote.
	if err := os.WriteFile(filepath.Join(dirs["scratch"].Path, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Setup(in); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dirs["scratch"].Path, "f")); err != nil {
		t.Errorf("emptyDir content lost: %v", err)
	}
}
