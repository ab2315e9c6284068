package lab

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// cgroupDirs returns root and every cgroup directory below it, deepest
// first (the order rmdir needs).
func cgroupDirs(root string) ([]string, error) {
	var dirs []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list cgroup %s: %w", root, err)
	}
	sort.SliceStable(dirs, func(i, j int) bool { return strings.Count(dirs[i], "/") > strings.Count(dirs[j], "/") })
	return dirs, nil
}

// populated reports whether any process lives in the cgroup or below it.
func populated(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.events"))
	if err != nil {
		return false
	}
	return strings.Contains(string(b), "populated 1")
}

// killCgroup kills every process in the cgroup tree at root (cgroup.kill,
// or SIGKILL to each cgroup.procs entry on kernels without it), waits for
// it to empty and removes the directories. A missing root is not an error.
func killCgroup(root string, wait time.Duration) (bool, error) {
	if _, err := os.Stat(root); errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err := os.WriteFile(filepath.Join(root, "cgroup.kill"), []byte("1"), 0o200); err != nil {
		if err := killProcsBelow(root); err != nil {
			return true, err
		}
	}
	deadline := time.Now().Add(wait)
	for populated(root) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if populated(root) {
		return true, fmt.Errorf("cgroup %s still has processes %s after kill", root, wait)
	}
	dirs, err := cgroupDirs(root)
	if err != nil {
		return true, err
	}
	var errs []error
	for _, d := range dirs {
		if err := os.Remove(d); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove cgroup %s: %w", d, err))
		}
	}
	return true, errors.Join(errs...)
}

// killProcsBelow is the fallback for kernels before 5.14 (no cgroup.kill).
func killProcsBelow(root string) error {
	dirs, err := cgroupDirs(root)
	if err != nil {
		return err
	}
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "cgroup.procs"))
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			var pid int
			if _, err := fmt.Sscan(f, &pid); err == nil && pid > 0 {
				_ = killPID(pid)
			}
		}
	}
	return nil
}
