package volumes

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"rudder/internal/mountinfo"
)

// Teardown removes the volumes Setup made under podDir/volumes (hostPath
// targets live elsewhere and are never touched). It refuses to remove a
// volume directory something is still mounted on.
func Teardown(podDir string) error {
	if podDir == "" {
		return errors.New("volume teardown: podDir is empty")
	}
	base, err := filepath.Abs(filepath.Join(podDir, "volumes"))
	if err != nil {
		return fmt.Errorf("volume teardown: %w", err)
	}
	if _, err := os.Lstat(base); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	mounts, err := mountPointsUnder(base)
	if err != nil {
		return fmt.Errorf("volume teardown: %w", err)
	}
	if len(mounts) > 0 {
		return fmt.Errorf("volume teardown: %s is still mounted", mounts[0])
	}
	var errs []error
	for _, k := range allKinds() {
		dir := filepath.Join(base, k)
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", dir, err))
		}
	}
	// Left in place if something else lives there.
	if err := os.Remove(base); err != nil && !errors.Is(err, fs.ErrNotExist) && !isNotEmpty(err) {
		errs = append(errs, fmt.Errorf("remove %s: %w", base, err))
	}
	return errors.Join(errs...)
}

func isNotEmpty(err error) bool {
	return errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST)
}

// mountPointsUnder lists the mount points at or below dir, from
// /proc/self/mountinfo.
func mountPointsUnder(dir string) ([]string, error) {
	mounts, err := mountinfo.Read()
	if err != nil {
		return nil, err
	}
	return mountinfo.Under(mounts, dir), nil
}
