package volumes

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Mount is one bind mount into a container.
type Mount struct {
	// Source is the host path.
	Source string
	// Target is the mountPath inside the container.
	Target   string
	ReadOnly bool
}

// Mounts resolves container c's volumeMounts against the volumes Setup
// returned. subPathExpr is expanded with env ($(VAR); $$ is a literal
// $). A subPath must be relative without "..", must not leave the volume
// through symlinks, and is created as a directory when missing in a
// writable volume, as upstream. A subPath source is the resolved path, so
// later atomic updates of the volume do not reach it (as upstream).
func Mounts(pod *corev1.Pod, c *corev1.Container, dirs map[string]Dir, env map[string]string) ([]Mount, error) {
	if pod == nil || c == nil {
		return nil, errors.New("volume mounts: pod and container are required")
	}
	out := make([]Mount, 0, len(c.VolumeMounts))
	for _, vm := range c.VolumeMounts {
		m, err := resolveMount(&vm, dirs, env)
		if err != nil {
			return nil, fmt.Errorf("volumeMount %q of container %q: %w", vm.Name, c.Name, err)
		}
		out = append(out, m)
	}
	return out, nil
}

func resolveMount(vm *corev1.VolumeMount, dirs map[string]Dir, env map[string]string) (Mount, error) {
	d, ok := dirs[vm.Name]
	if !ok {
		return Mount{}, fmt.Errorf("no volume %q is set up for this pod", vm.Name)
	}
	if vm.MountPath == "" {
		return Mount{}, errors.New("mountPath is empty")
	}
	m := Mount{Source: d.Path, Target: vm.MountPath, ReadOnly: vm.ReadOnly || d.ReadOnly}
	sub := vm.SubPath
	if vm.SubPathExpr != "" {
		if sub != "" {
			return Mount{}, errors.New("subPath and subPathExpr are mutually exclusive")
		}
		var err error
		if sub, err = expand(vm.SubPathExpr, env); err != nil {
			return Mount{}, fmt.Errorf("subPathExpr %q: %w", vm.SubPathExpr, err)
		}
	}
	if sub == "" {
		return m, nil
	}
	src, err := subPathSource(d, sub)
	if err != nil {
		return Mount{}, fmt.Errorf("subPath %q: %w", sub, err)
	}
	m.Source = src
	return m, nil
}

// expand replaces $(VAR) with env[VAR]; a missing or empty variable is an
// error, as upstream.
func expand(expr string, env map[string]string) (string, error) {
	var b strings.Builder
	missingVars := map[string]bool{}
	for i := 0; i < len(expr); i++ {
		if expr[i] != '$' || i+1 == len(expr) {
			b.WriteByte(expr[i])
			continue
		}
		switch next := expr[i+1]; {
		case next == '$':
			b.WriteByte('$')
			i++
		case next == '(':
			end := strings.IndexByte(expr[i+2:], ')')
			if end < 0 {
				b.WriteString(expr[i:])
				i = len(expr)
				continue
			}
			name := expr[i+2 : i+2+end]
			if env[name] == "" {
				missingVars[name] = true
			}
			b.WriteString(env[name])
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	if len(missingVars) > 0 {
		names := make([]string, 0, len(missingVars))
		for n := range missingVars {
			names = append(names, n)
		}
		sort.Strings(names)
		return "", fmt.Errorf("missing value for %s", strings.Join(names, ", "))
	}
	return b.String(), nil
}

// subPathSource returns the resolved host path of sub inside d.
func subPathSource(d Dir, sub string) (string, error) {
	if filepath.IsAbs(sub) {
		return "", errors.New("must not be an absolute path")
	}
	for _, part := range strings.Split(filepath.ToSlash(sub), "/") {
		if part == ".." {
			return "", errors.New("must not contain '..'")
		}
	}
	root, err := filepath.EvalSymlinks(d.Path)
	if err != nil {
		return "", fmt.Errorf("resolve volume path: %w", err)
	}
	cur := root
	for _, part := range strings.Split(filepath.Clean(sub), "/") {
		if cur, err = step(root, cur, part, d.ReadOnly); err != nil {
			return "", err
		}
	}
	return cur, nil
}

// step walks from cur to its child part, following a symlink only when
// it stays inside root, and creating a missing directory (mode of the
// volume root) unless the volume is read-only.
func step(root, cur, part string, readOnly bool) (string, error) {
	next := filepath.Join(cur, part)
	fi, err := os.Lstat(next)
	switch {
	case errors.Is(err, fs.ErrNotExist) && readOnly:
		return "", fmt.Errorf("%s does not exist in the read-only volume", part)
	case errors.Is(err, fs.ErrNotExist):
		rfi, err := os.Stat(root)
		if err != nil {
			return "", fmt.Errorf("stat volume: %w", err)
		}
		if err := os.Mkdir(next, rfi.Mode().Perm()); err != nil {
			return "", fmt.Errorf("create subPath directory: %w", err)
		}
		return next, nil
	case err != nil:
		return "", fmt.Errorf("inspect subPath: %w", err)
	case fi.Mode()&fs.ModeSymlink == 0:
		return next, nil
	}
	real, err := filepath.EvalSymlinks(next)
	if err != nil {
		return "", fmt.Errorf("resolve symlink %s: %w", part, err)
	}
	if rel, err := filepath.Rel(root, real); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("symlink %s points outside the volume", part)
	}
	return real, nil
}
