package volumes

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// versioned returns a payload whose files all carry version v.
func versioned(v int, names ...string) map[string]file {
	p := map[string]file{}
	for _, n := range names {
		p[n] = file{Data: []byte(fmt.Sprintf("%s-v%d-%s", n, v, strings.Repeat("x", 4096))), Mode: 0o644}
	}
	return p
}

func version(b []byte) string {
	s := string(b)
	if i := strings.Index(s, "-v"); i >= 0 {
		if j := strings.Index(s[i+2:], "-"); j >= 0 {
			return s[i+2 : i+2+j]
		}
	}
	return "?" + s
}

// TestAtomicUpdateNeverMixed updates a volume many times while a reader
// checks every snapshot it sees through ..data is complete and of one
// version, and that user-visible files are never partial.
func TestAtomicUpdateNeverMixed(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vol")
	if err := writeAtomic(dir, versioned(0, "a", "b")); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var bad atomic.Value
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			if err := readSnapshot(dir); err != nil {
				bad.Store(err)
				return
			}
		}
	}()
	for v := 1; v <= 200; v++ {
		if err := writeAtomic(dir, versioned(v, "a", "b")); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if err, _ := bad.Load().(error); err != nil {
		t.Fatal(err)
	}
	ts, _ := filepath.Glob(filepath.Join(dir, "..2*"))
	if len(ts) != 1 {
		t.Errorf("timestamped dirs left: %v", ts)
	}
}

// readSnapshot reads a and b through one resolution of ..data; a version
// dir removed under the reader is fine (it retries), a mix is not.
func readSnapshot(dir string) error {
	ts, err := os.Readlink(filepath.Join(dir, dataLink))
	if err != nil {
		return fmt.Errorf("readlink ..data: %w", err)
	}
	a, errA := os.ReadFile(filepath.Join(dir, ts, "a"))
	b, errB := os.ReadFile(filepath.Join(dir, ts, "b"))
	if errors.Is(errA, fs.ErrNotExist) || errors.Is(errB, fs.ErrNotExist) {
		return nil // superseded and removed meanwhile
	}
	if errA != nil || errB != nil {
		return fmt.Errorf("read: %v %v", errA, errB)
	}
	if version(a) != version(b) {
		return fmt.Errorf("mixed snapshot: a %s, b %s", version(a), version(b))
	}
	visible, err := os.ReadFile(filepath.Join(dir, "a"))
	if errors.Is(err, fs.ErrNotExist) {
		// As upstream: a reader that resolved ..data just before a swap
		// can find the old version already removed; never a partial file.
		return nil
	}
	if err != nil {
		return fmt.Errorf("user-visible file missing: %w", err)
	}
	if want := len("a-v-") + len(version(visible)) + 4096; len(visible) != want {
		return fmt.Errorf("partial user-visible file: %d bytes", len(visible))
	}
	return nil
}

func TestSetupAppliesUpdates(t *testing.T) {
	o := testObjects()
	pod := testPod(vol("cfg", corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}}}))
	in := input(t, pod)
	in.ConfigMap = o.configMap
	dirs, err := Setup(in)
	if err != nil {
		t.Fatal(err)
	}
	path := dirs["cfg"].Path
	first, _ := os.Readlink(filepath.Join(path, dataLink))
	// Unchanged content: nothing is rewritten.
	if _, err := Setup(in); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.Readlink(filepath.Join(path, dataLink)); again != first {
		t.Errorf("unchanged payload rewritten: %s -> %s", first, again)
	}
	// Change a, drop b and bin, add c.
	o.cms["ns/cm"] = &corev1.ConfigMap{Data: map[string]string{"a": "ALPHA", "c": "gamma"}}
	if _, err := Setup(in); err != nil {
		t.Fatal(err)
	}
	got := tree(t, path)
	want := map[string]string{"a": "ALPHA -rw-r--r--", "c": "gamma -rw-r--r--"}
	if len(got) != len(want) || got["a"] != want["a"] || got["c"] != want["c"] {
		t.Errorf("after update %v, want %v", got, want)
	}
	if _, err := os.Lstat(filepath.Join(path, "b")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale b left: %v", err)
	}
	if _, err := os.Stat(filepath.Join(path, first)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("old version dir left: %v", err)
	}
}

func TestValidatePayload(t *testing.T) {
	tests := []struct {
		paths   []string
		wantErr bool
	}{
		{[]string{"a", "b/c", "b/d"}, false},
		{[]string{"/abs"}, true},
		{[]string{"..a"}, true},
		{[]string{"a/../b"}, true},
		{[]string{"a//b"}, true},
		{[]string{""}, true},
		{[]string{"a", "a/b"}, true},
	}
	for _, tc := range tests {
		p := map[string]file{}
		for _, s := range tc.paths {
			p[s] = file{}
		}
		if _, err := validatePayload(p); (err != nil) != tc.wantErr {
			t.Errorf("validatePayload(%v) error %v, want error %v", tc.paths, err, tc.wantErr)
		}
	}
}
