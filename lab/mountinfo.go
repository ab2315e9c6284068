package lab

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// mount is one line of /proc/self/mountinfo, the fields the lab needs.
type mount struct {
	Point  string
	FSType string
}

// parseMountinfo reads mountinfo lines: field 5 is the mount point (octal
// escaped), the filesystem type follows the " - " separator.
func parseMountinfo(r io.Reader) ([]mount, error) {
	var out []mount
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		pre, post, ok := strings.Cut(line, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 5 || len(g) < 1 {
			return nil, fmt.Errorf("parse mountinfo line %q", line)
		}
		out = append(out, mount{Point: unescapeOctal(f[4]), FSType: g[0]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	return out, nil
}

// unescapeOctal undoes the \ooo escapes the kernel writes for space, tab,
// newline and backslash in mount points.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func readMounts() ([]mount, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("read mounts: %w", err)
	}
	defer f.Close()
	return parseMountinfo(f)
}

// cgroup2Root returns the mount point of the cgroup v2 hierarchy.
func cgroup2Root(mounts []mount) (string, error) {
	for _, m := range mounts {
		if m.FSType == "cgroup2" {
			return m.Point, nil
		}
	}
	return "", fmt.Errorf("no cgroup2 filesystem mounted (see /proc/self/mountinfo); the lab needs cgroup v2")
}

// mountsUnder returns the mount points at or below dir, deepest first (the
// order they must be unmounted in).
func mountsUnder(mounts []mount, dir string) []string {
	dir = filepath.Clean(dir)
	var out []string
	for _, m := range mounts {
		if m.Point == dir || strings.HasPrefix(m.Point, dir+"/") {
			out = append(out, m.Point)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return strings.Count(out[i], "/") > strings.Count(out[j], "/") })
	return out
}

// unmountUnder lazily unmounts every mount at or below dir, deepest first,
// and returns the mount points it removed.
func unmountUnder(dir string) ([]string, error) {
	var done []string
	// A mount point may be stacked several times: repeat until none is left.
	for range 10 {
		mounts, err := readMounts()
		if err != nil {
			return done, err
		}
		todo := mountsUnder(mounts, dir)
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
