package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"rudder/internal/mountinfo"
)

// FindCgroup2Mount returns where the cgroup v2 hierarchy is mounted, from
// /proc/self/mountinfo.
func FindCgroup2Mount() (string, error) {
	mounts, err := mountinfo.Read()
	if err != nil {
		return "", fmt.Errorf("find cgroup2 mount: %w", err)
	}
	return mountinfo.Cgroup2(mounts)
}

// cgroups manages the pod and container cgroups under one root; a zero
// root disables them.
type cgroups struct{ root string }

func (g cgroups) enabled() bool { return g.root != "" }

func (g cgroups) podDir(uid string) string { return filepath.Join(g.root, "pod"+uid) }

func (g cgroups) containerDir(uid, name string, restart int) string {
	return filepath.Join(g.podDir(uid), fmt.Sprintf("%s-%d", name, restart))
}

// create makes the container's cgroup and returns it opened as a
// directory, for SysProcAttr.CgroupFD.
// The pod's cgroup may be removed meanwhile by its last container
// ending, so a vanished parent is retried.
func (g cgroups) create(dir string) (*os.File, error) {
	var err error
	for range 3 {
		if err = os.MkdirAll(dir, 0o755); err == nil {
			var f *os.File
			if f, err = os.Open(dir); err == nil {
				return f, nil
			}
		}
		if !errors.Is(err, os.ErrNotExist) {
			break
		}
	}
	return nil, fmt.Errorf("create cgroup %s: %w", dir, err)
}

// kill ends every process in the cgroup dir and its children, waits
// until it is empty and removes it.
func (g cgroups) kill(dir string, wait time.Duration) error {
	if err := os.WriteFile(filepath.Join(dir, "cgroup.kill"), []byte("1"), 0); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("kill cgroup %s: %w", dir, err)
	}
	return g.remove(dir, wait)
}

// remove removes dir and its child cgroups once they are empty, waiting
// up to wait for processes to go.
func (g cgroups) remove(dir string, wait time.Duration) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list cgroup %s: %w", dir, err)
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := g.remove(filepath.Join(dir, e.Name()), wait); err != nil {
				return err
			}
		}
	}
	deadline := time.Now().Add(wait)
	for {
		err := os.Remove(dir)
		if err == nil || errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("remove cgroup %s: %w", dir, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pods lists the pod UIDs that have a cgroup.
func (g cgroups) pods() ([]string, error) {
	entries, err := os.ReadDir(g.root)
	if err != nil {
		return nil, fmt.Errorf("list pod cgroups in %s: %w", g.root, err)
	}
	var uids []string
	for _, e := range entries {
		if uid, ok := strings.CutPrefix(e.Name(), "pod"); ok && e.IsDir() && uid != "" {
			uids = append(uids, uid)
		}
	}
	return uids, nil
}
