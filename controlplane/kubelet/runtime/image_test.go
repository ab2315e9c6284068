package runtime

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestNormalizeImage(t *testing.T) {
	for ref, want := range map[string]string{
		"nginx":                                        "nginx",
		"nginx:1.27":                                   "nginx",
		"docker.io/library/nginx@sha256:abcdef0":       "nginx",
		"docker.io/library/nginx:1.27@sha256:ab":       "nginx",
		"registry.k8s.io/e2e-test-images/agnhost:2.53": "agnhost",
		"ghcr.io/x/rudder:dev":                         "rudder",
		"localhost:5000/busybox":                       "busybox",
		" BusyBox:latest ":                             "busybox",
		"":                                             "",
	} {
		if got := NormalizeImage(ref); got != want {
			t.Errorf("NormalizeImage(%q) = %q, want %q", ref, got, want)
		}
	}
}

func TestResolveArgv(t *testing.T) {
	img := Image{Entrypoint: []string{"/ep", "-x"}, Cmd: []string{"c1", "c2"}}
	for _, tc := range []struct {
		name          string
		img           Image
		command, args []string
		want          []string
		wantErr       bool
	}{
		{name: "image defaults", img: img, want: []string{"/ep", "-x", "c1", "c2"}},
		{name: "args replace cmd", img: img, args: []string{"a"}, want: []string{"/ep", "-x", "a"}},
		{name: "command drops cmd", img: img, command: []string{"/bin/true"}, want: []string{"/bin/true"}},
		{name: "command and args", img: img, command: []string{"sh"}, args: []string{"-c", "x"}, want: []string{"sh", "-c", "x"}},
		{name: "cmd only image", img: Image{Cmd: []string{"sh"}}, want: []string{"sh"}},
		{name: "args without entrypoint", img: Image{Cmd: []string{"sh"}}, args: []string{"echo"}, want: []string{"echo"}},
		{name: "nothing to run", img: Image{}, wantErr: true},
	} {
		got, err := ResolveArgv(tc.img, tc.command, tc.args)
		if (err != nil) != tc.wantErr || !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
}

func TestMergeEnv(t *testing.T) {
	for _, tc := range []struct {
		name         string
		base, over   []string
		prefix, want []string
	}{
		{name: "default PATH", want: []string{"PATH=" + DefaultPath}},
		{name: "override keeps order", base: []string{"A=1", "B=2"}, over: []string{"B=3", "C=4"},
			want: []string{"A=1", "B=3", "C=4", "PATH=" + DefaultPath}},
		{name: "prefix on container PATH", over: []string{"PATH=/bin"}, prefix: []string{"/x", "/y"},
			want: []string{"PATH=/x:/y:/bin"}},
		{name: "empty value and junk", base: []string{"E=", "=bad"}, want: []string{"E=", "PATH=" + DefaultPath}},
	} {
		if got := MergeEnv(tc.base, tc.over, tc.prefix...); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestLookupAndLoadImageMap(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "images.yaml")
	if err := os.WriteFile(p, []byte("docker.io/library/redis:7:\n  entrypoint: [/usr/bin/redis-server]\n  tmpfs: [/data]\nbusybox:\n  cmd: [sleep, '10']\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	file, err := LoadImageMap(p)
	if err != nil {
		t.Fatal(err)
	}
	m := DefaultImages("/usr/bin/rudder").Merge(file)
	if img, err := m.Lookup("redis:7.2"); err != nil || img.Entrypoint[0] != "/usr/bin/redis-server" {
		t.Errorf("redis = %+v, %v", img, err)
	}
	if img, _ := m.Lookup("busybox"); !slices.Equal(img.Cmd, []string{"sleep", "10"}) {
		t.Errorf("file entry did not replace the default: %+v", img)
	}
	if img, _ := m.Lookup("ghcr.io/me/rudder:dev"); img.Entrypoint[0] != "/usr/bin/rudder" {
		t.Errorf("rudder = %+v", img)
	}
	var ie *ImageError
	if _, err := m.Lookup("mysql"); !errors.As(err, &ie) || ie.Reason != "ErrImagePull" || !strings.Contains(ie.Message, "--image-map") {
		t.Errorf("unknown image: %v", err)
	}

	bad := filepath.Join(dir, "bad.yaml")
	_ = os.WriteFile(bad, []byte("x:\n  entrypint: [a]\n"), 0o644)
	if _, err := LoadImageMap(bad); err == nil {
		t.Error("misspelt field accepted")
	}
	if _, err := LoadImageMap(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file accepted")
	}
}

func TestCheckInstalled(t *testing.T) {
	var ie *ImageError
	err := checkInstalled("nginx", Image{Entrypoint: []string{"/no/such/nginx"}})
	if !errors.As(err, &ie) || ie.Reason != "ErrImagePull" {
		t.Errorf("missing program: %v", err)
	}
	if err := checkInstalled("x", Image{Entrypoint: []string{"relative"}, Cmd: []string{"sh"}}); err != nil {
		t.Errorf("relative entrypoint is looked up at start: %v", err)
	}
	err = checkInstalled("busybox", Image{BusyboxApplets: "/bin/busybox-missing"})
	if !errors.As(err, &ie) {
		t.Errorf("missing busybox: %v", err)
	}
}

func TestLookPath(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "prog")
	_ = os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755)
	_ = os.WriteFile(filepath.Join(dir, "data"), nil, 0o644)
	if got, err := lookPath("prog", "/nonexistent:"+dir); err != nil || got != exe {
		t.Errorf("lookPath = %q, %v", got, err)
	}
	for _, f := range []string{"data", "missing", dir + "/data"} {
		if _, err := lookPath(f, dir); err == nil {
			t.Errorf("lookPath(%q) succeeded", f)
		}
	}
}
