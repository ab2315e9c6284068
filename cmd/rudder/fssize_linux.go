package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// fsSize is the size of the file system holding dir (created if missing).
func fsSize(dir string) (int64, bool) {
	_ = os.MkdirAll(dir, 0o755)
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return int64(st.Blocks) * st.Bsize, true
}
