package volumes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestMounts(t *testing.T) {
	pod := testPod(
		vol("data", corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}),
		vol("cfg", corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}}}))
	in := input(t, pod)
	dirs, err := Setup(in)
	if err != nil {
		t.Fatal(err)
	}
	data, cfg := dirs["data"].Path, dirs["cfg"].Path
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(data, "escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("logs", filepath.Join(data, "inside")); err != nil {
		t.Fatal(err)
	}
	ts, _ := os.Readlink(filepath.Join(cfg, dataLink))
	env := map[string]string{"POD": "web", "EMPTY": ""}

	tests := []struct {
		name    string
		vm      corev1.VolumeMount
		want    Mount
		wantErr string
		check   func(t *testing.T)
	}{
		{name: "whole volume", vm: corev1.VolumeMount{Name: "data", MountPath: "/data"},
			want: Mount{Source: data, Target: "/data"}},
		{name: "readOnly mount", vm: corev1.VolumeMount{Name: "data", MountPath: "/data", ReadOnly: true},
			want: Mount{Source: data, Target: "/data", ReadOnly: true}},
		{name: "configMap is read-only", vm: corev1.VolumeMount{Name: "cfg", MountPath: "/etc/cfg"},
			want: Mount{Source: cfg, Target: "/etc/cfg", ReadOnly: true}},
		{name: "subPath created", vm: corev1.VolumeMount{Name: "data", MountPath: "/logs", SubPath: "logs/app"},
			want: Mount{Source: filepath.Join(data, "logs/app"), Target: "/logs"},
			check: func(t *testing.T) {
				if fi, err := os.Stat(filepath.Join(data, "logs/app")); err != nil || !fi.IsDir() {
					t.Errorf("subPath not created: %v", err)
				}
			}},
		{name: "subPath symlink inside the volume", vm: corev1.VolumeMount{Name: "data", MountPath: "/l", SubPath: "inside"},
			want: Mount{Source: filepath.Join(data, "logs"), Target: "/l"}},
		{name: "subPath of a configMap key resolves the file", vm: corev1.VolumeMount{Name: "cfg", MountPath: "/etc/a", SubPath: "a"},
			want: Mount{Source: filepath.Join(cfg, ts, "a"), Target: "/etc/a", ReadOnly: true}},
		{name: "subPathExpr", vm: corev1.VolumeMount{Name: "data", MountPath: "/p", SubPathExpr: "pods/$(POD)/$$x"},
			want: Mount{Source: filepath.Join(data, "pods/web/$x"), Target: "/p"}},
		{name: "subPathExpr missing variable", vm: corev1.VolumeMount{Name: "data", MountPath: "/p", SubPathExpr: "$(NOPE)/$(EMPTY)"},
			wantErr: "missing value for EMPTY, NOPE"},
		{name: "subPath absolute", vm: corev1.VolumeMount{Name: "data", MountPath: "/p", SubPath: "/etc"},
			wantErr: "must not be an absolute path"},
		{name: "subPath with ..", vm: corev1.VolumeMount{Name: "data", MountPath: "/p", SubPath: "a/../../b"},
			wantErr: "must not contain '..'"},
		{name: "subPath escaping by symlink", vm: corev1.VolumeMount{Name: "data", MountPath: "/p", SubPath: "escape/x"},
			wantErr: "points outside the volume"},
		{name: "subPath missing in read-only volume", vm: corev1.VolumeMount{Name: "cfg", MountPath: "/p", SubPath: "nope"},
			wantErr: "does not exist in the read-only volume"},
		{name: "unknown volume", vm: corev1.VolumeMount{Name: "ghost", MountPath: "/g"},
			wantErr: `volumeMount "ghost" of container "c": no volume "ghost"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &corev1.Container{Name: "c", VolumeMounts: []corev1.VolumeMount{tc.vm}}
			got, err := Mounts(pod, c, dirs, env)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			if real, err := filepath.EvalSymlinks(filepath.Dir(want.Source)); err == nil {
				want.Source = filepath.Join(real, filepath.Base(want.Source))
			}
			if len(got) != 1 || got[0] != want {
				t.Errorf("mounts %+v, want %+v", got, want)
			}
			if tc.check != nil {
				tc.check(t)
			}
		})
	}
}

func TestExpand(t *testing.T) {
	env := map[string]string{"A": "1", "B": "two"}
	tests := []struct{ in, want, wantErr string }{
		{"plain", "plain", ""},
		{"$(A)-$(B)", "1-two", ""},
		{"$$(A)", "$(A)", ""},
		{"cost$", "cost$", ""},
		{"$x", "$x", ""},
		{"$(A", "$(A", ""},
		{"$(C)", "", "missing value for C"},
	}
	for _, tc := range tests {
		got, err := expand(tc.in, env)
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("expand(%q) error %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("expand(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
