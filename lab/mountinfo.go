package lab

import (
	"fmt"

	"golang.org/x/sys/unix"

	"rudder/internal/mountinfo"
)

// unmountUnder lazily unmounts every mount at or below dir, deepest first,
// and returns the mount points it removed.
func unmountUnder(dir string) ([]string, error) {
	var done []string
	// A mount point may be stacked several times: repeat until none is left.
	for range 10 {
		mounts, err := mountinfo.Read()
		if err != nil {
			return done, err
		}
		todo := mountinfo.Under(mounts, dir)
		if len(todo) == 0 {
			return done, nil
		}
		for _, p := range todo {
			if err := unix.Unmount(p, unix.MNT_DETACH); err != nil && err != unix.EINVAL && err != unix.ENOENT {
				return done, fmt.Errorf("unmount %s: %w", p, err)
			}
			done = append(done, p)
		}
	}
	return done, fmt.Errorf("mounts under %s remain after 10 rounds of unmounting", dir)
}
