// Package mountinfo reads /proc/self/mountinfo: the mount points and file
// system types the lab, the process runtime and the volume manager need
// (the cgroup v2 mount, the mounts below a directory).
package mountinfo

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Mount is one mountinfo line, the fields rudder uses.
type Mount struct {
	Point  string
	FSType string
}

// Parse reads mountinfo text: field 5 is the mount point (octal escaped),
// the file system type follows the " - " separator.
func Parse(r io.Reader) ([]Mount, error) {
	var out []Mount
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
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
		out = append(out, Mount{Point: Unescape(f[4]), FSType: g[0]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	return out, nil
}

// Read parses this process's mount table.
func Read() ([]Mount, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("read mount table: %w", err)
	}
	defer f.Close()
	return Parse(f)
}

// Unescape undoes the \ooo escapes the kernel writes for space, tab,
// newline and backslash in mount points.
func Unescape(s string) string {
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

// ErrNoCgroup2 is returned when no cgroup v2 hierarchy is mounted.
var ErrNoCgroup2 = errors.New("no cgroup2 file system is mounted (see /proc/self/mountinfo)")

// Cgroup2 returns the mount point of the cgroup v2 hierarchy.
func Cgroup2(mounts []Mount) (string, error) {
	for _, m := range mounts {
		if m.FSType == "cgroup2" {
			return m.Point, nil
		}
	}
	return "", ErrNoCgroup2
}

// Under returns the mount points at or below dir, deepest first (the
// order they must be unmounted in).
func Under(mounts []Mount, dir string) []string {
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
