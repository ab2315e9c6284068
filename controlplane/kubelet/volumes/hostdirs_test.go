package volumes

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
)

func TestHostPath(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "dir")
	file := filepath.Join(base, "file")
	sock := filepath.Join(base, "sock")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	block := filepath.Join(base, "blk")
	haveBlock := unix.Mknod(block, unix.S_IFBLK|0o600, int(unix.Mkdev(7, 200))) == nil

	type tcase struct {
		name    string
		path    string
		typ     corev1.HostPathType
		wantErr string
		check   func(t *testing.T)
	}
	isDir := func(p string) func(t *testing.T) {
		return func(t *testing.T) {
			if fi, err := os.Stat(p); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o755 {
				t.Errorf("%s not created as a 0755 directory: %v %v", p, fi, err)
			}
		}
	}
	tests := []tcase{
		{name: "unset, missing is fine", path: filepath.Join(base, "nothing"), typ: corev1.HostPathUnset},
		{name: "DirectoryOrCreate creates", path: filepath.Join(base, "new/deep"), typ: corev1.HostPathDirectoryOrCreate, check: isDir(filepath.Join(base, "new/deep"))},
		{name: "DirectoryOrCreate on file", path: file, typ: corev1.HostPathDirectoryOrCreate, wantErr: "hostPath type check failed: " + file + " is not a directory"},
		{name: "Directory", path: dir, typ: corev1.HostPathDirectory},
		{name: "Directory missing", path: filepath.Join(base, "nope"), typ: corev1.HostPathDirectory, wantErr: "is not a directory"},
		{name: "FileOrCreate creates", path: filepath.Join(base, "newfile"), typ: corev1.HostPathFileOrCreate, check: func(t *testing.T) {
			if fi, err := os.Stat(filepath.Join(base, "newfile")); err != nil || !fi.Mode().IsRegular() {
				t.Errorf("file not created: %v", err)
			}
		}},
		{name: "FileOrCreate on dir", path: dir, typ: corev1.HostPathFileOrCreate, wantErr: dir + " is not a file"},
		{name: "file", path: file, typ: corev1.HostPathFile},
		{name: "file on socket", path: sock, typ: corev1.HostPathFile, wantErr: "is not a file"},
		{name: "Socket", path: sock, typ: corev1.HostPathSocket},
		{name: "Socket on file", path: file, typ: corev1.HostPathSocket, wantErr: file + " is not a socket file"},
		{name: "CharDevice", path: "/dev/null", typ: corev1.HostPathCharDev},
		{name: "CharDevice on dir", path: dir, typ: corev1.HostPathCharDev, wantErr: dir + " is not a character device"},
		{name: "BlockDevice on char device", path: "/dev/null", typ: corev1.HostPathBlockDev, wantErr: "/dev/null is not a block device"},
		{name: "bad type", path: dir, typ: "Weird", wantErr: "Weird is an invalid volume type"},
	}
	if haveBlock {
		tests = append(tests, tcase{name: "BlockDevice", path: block, typ: corev1.HostPathBlockDev})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			typ := tc.typ
			in := input(t, testPod(vol("h", corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: tc.path, Type: &typ}})))
			dirs, err := Setup(in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := dirs["h"]; d.Path != tc.path || d.ReadOnly {
				t.Errorf("dir %+v", d)
			}
			if tc.check != nil {
				tc.check(t)
			}
		})
	}
}
