package volumes

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
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
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("read mount table: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMount(fields[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read mount table: %w", err)
	}
	return out, nil
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
