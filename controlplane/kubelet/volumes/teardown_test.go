package volumes

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"

	"rudder/lab/netns"
)

func TestTeardown(t *testing.T) {
	host := t.TempDir()
	if err := os.WriteFile(filepath.Join(host, "keep"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	pod := testPod(
		vol("data", corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}),
		vol("cfg", corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}}}),
		vol("host", corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: host}}))
	in := input(t, pod)
	if _, err := Setup(in); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(in.PodDir, "containers")
	if err := os.Mkdir(other, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Teardown(in.PodDir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(in.PodDir, "volumes")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("volumes left: %v", err)
	}
	for _, p := range []string{other, filepath.Join(host, "keep")} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s removed: %v", p, err)
		}
	}
	if err := Teardown(in.PodDir); err != nil {
		t.Errorf("second teardown: %v", err)
	}
}

func TestTeardownRefusesMounts(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount")
	}
	podDir := filepath.Join(t.TempDir(), netns.RunPrefix("rdrt")+" pod")
	dirs, err := Setup(SetupInput{PodDir: podDir, Pod: testPod(vol("data", corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}))})
	if err != nil {
		t.Fatal(err)
	}
	target := dirs["data"].Path
	if err := unix.Mount("tmpfs", target, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("cannot mount tmpfs: %v", err)
	}
	t.Cleanup(func() { _ = unix.Unmount(target, unix.MNT_DETACH) })
	if err := Teardown(podDir); err == nil || !strings.Contains(err.Error(), "still mounted") {
		t.Fatalf("teardown over a mount: %v", err)
	}
	if err := unix.Unmount(target, 0); err != nil {
		t.Fatal(err)
	}
	if err := Teardown(podDir); err != nil {
		t.Fatal(err)
	}
}
