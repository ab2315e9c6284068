package volumes

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	corev1 "k8s.io/api/core/v1"
)

// setupEmptyDir makes the directory, world-writable as upstream. Medium
// "Memory" (and HugePages) is also a plain directory here: rudder does
// not mount a tmpfs, so its contents live on the kubelet's disk and
// sizeLimit is not enforced.
func setupEmptyDir(in *SetupInput, dir string, src *corev1.EmptyDirVolumeSource) (Dir, error) {
	if src.Medium != corev1.StorageMediumDefault {
		in.Logger.Debug("emptyDir medium is served by a plain directory", "dir", dir, "medium", string(src.Medium))
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return Dir{}, fmt.Errorf("create emptyDir: %w", err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		return Dir{}, fmt.Errorf("chmod emptyDir: %w", err)
	}
	return Dir{Path: dir}, nil
}

// setupHostPath checks (or creates) the host path as its type says, with
// upstream's messages.
func setupHostPath(src *corev1.HostPathVolumeSource) (Dir, error) {
	if src.Path == "" {
		return Dir{}, errors.New("hostPath path is empty")
	}
	t := corev1.HostPathUnset
	if src.Type != nil {
		t = *src.Type
	}
	if err := checkHostPath(src.Path, t); err != nil {
		return Dir{}, err
	}
	return Dir{Path: src.Path}, nil
}

func checkHostPath(path string, t corev1.HostPathType) error {
	fi, statErr := os.Stat(path)
	exists := statErr == nil
	if statErr != nil && !errors.Is(statErr, fs.ErrNotExist) {
		return fmt.Errorf("hostPath type check failed: stat %s: %w", path, statErr)
	}
	is := func(m fs.FileMode) bool { return exists && fi.Mode().Type() == m }
	switch t {
	case corev1.HostPathUnset:
		return nil
	case corev1.HostPathDirectoryOrCreate:
		if !exists {
			if err := os.MkdirAll(path, 0o755); err != nil {
				return fmt.Errorf("hostPath DirectoryOrCreate: create %s: %w", path, err)
			}
			return nil
		}
		fallthrough
	case corev1.HostPathDirectory:
		if !is(fs.ModeDir) {
			return fmt.Errorf("hostPath type check failed: %s is not a directory", path)
		}
	case corev1.HostPathFileOrCreate:
		if !exists {
			return createFile(path)
		}
		fallthrough
	case corev1.HostPathFile:
		if !is(0) {
			return fmt.Errorf("hostPath type check failed: %s is not a file", path)
		}
	case corev1.HostPathSocket:
		if !is(fs.ModeSocket) {
			return fmt.Errorf("hostPath type check failed: %s is not a socket file", path)
		}
	case corev1.HostPathCharDev:
		if !is(fs.ModeDevice | fs.ModeCharDevice) {
			return fmt.Errorf("hostPath type check failed: %s is not a character device", path)
		}
	case corev1.HostPathBlockDev:
		if !is(fs.ModeDevice) {
			return fmt.Errorf("hostPath type check failed: %s is not a block device", path)
		}
	default:
		return fmt.Errorf("%s is an invalid volume type", t)
	}
	return nil
}

// createFile creates an empty file (mode 0644) in an existing directory,
// as upstream's FileOrCreate does (it does not create parents).
func createFile(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDONLY, 0o644)
	if err != nil {
		return fmt.Errorf("hostPath FileOrCreate: create %s: %w", path, err)
	}
	return f.Close()
}
