package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// busyboxApplets returns a directory of symlinks, one per applet of the
// busybox binary bin, creating it on first use.
func (r *Runtime) busyboxApplets(ctx context.Context, bin string) (string, error) {
	r.appletsMu.Lock()
	defer r.appletsMu.Unlock()
	if dir, ok := r.applets[bin]; ok {
		return dir, nil
	}
	dir := filepath.Join(r.cfg.StateDir, "applets", strings.ReplaceAll(strings.Trim(bin, "/"), "/", "_"))
	if err := makeAppletDir(ctx, bin, dir); err != nil {
		return "", err
	}
	r.applets[bin] = dir
	return dir, nil
}

// makeAppletDir fills dir with applet links to bin, built aside and
// renamed into place so a half-made directory is never used.
func makeAppletDir(ctx context.Context, bin, dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	out, err := exec.CommandContext(ctx, bin, "--list").Output()
	if err != nil {
		return fmt.Errorf("list busybox applets of %s: %w", bin, err)
	}
	tmp := dir + ".tmp-" + newID()[:8]
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return fmt.Errorf("create busybox applet directory: %w", err)
	}
	defer os.RemoveAll(tmp)
	for _, name := range strings.Fields(string(out)) {
		if validName("applet", name) != nil {
			continue
		}
		if err := os.Symlink(bin, filepath.Join(tmp, name)); err != nil {
			return fmt.Errorf("create busybox applet %s: %w", name, err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil && !errors.Is(err, os.ErrExist) {
		if _, serr := os.Stat(dir); serr == nil {
			return nil // made by someone else meanwhile
		}
		return fmt.Errorf("install busybox applet directory: %w", err)
	}
	return nil
}
