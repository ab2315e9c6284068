package volumes

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// file is one file of a projected volume (configMap, secret,
// downwardAPI, projected): its bytes and permission bits.
type file struct {
	Data []byte
	Mode os.FileMode
}

const (
	dataLink    = "..data"
	dataLinkTmp = "..data_tmp"
	// tsLayout names the timestamped directory holding one version.
	tsLayout = "..2006_01_02_15_04_05."
)

// writeAtomic makes dir show exactly payload, switching from any earlier
// version in one rename, as upstream's AtomicWriter: the files go to a
// fresh timestamped directory, a "..data" symlink is swapped to point at
// it, and every top-level name is a symlink through "..data". A reader
// therefore sees the old set or the new set, never a mix. An unchanged
// payload is left alone.
func writeAtomic(dir string, payload map[string]file) error {
	tops, err := validatePayload(payload)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create volume directory: %w", err)
	}
	oldTS, _ := os.Readlink(filepath.Join(dir, dataLink))
	if oldTS != "" && sameContent(filepath.Join(dir, oldTS), payload) {
		return nil
	}
	tsDir, err := os.MkdirTemp(dir, time.Now().UTC().Format(tsLayout))
	if err != nil {
		return fmt.Errorf("create timestamped directory: %w", err)
	}
	if err := writeFiles(tsDir, payload); err != nil {
		_ = os.RemoveAll(tsDir)
		return err
	}
	if err := swapDataLink(dir, filepath.Base(tsDir)); err != nil {
		_ = os.RemoveAll(tsDir)
		return err
	}
	if err := linkTops(dir, tops); err != nil {
		return err
	}
	if err := removeStale(dir, tops); err != nil {
		return err
	}
	if oldTS != "" && oldTS != filepath.Base(tsDir) {
		if err := os.RemoveAll(filepath.Join(dir, oldTS)); err != nil {
			return fmt.Errorf("remove previous version %s: %w", oldTS, err)
		}
	}
	return nil
}

// validatePayload checks every path is relative, clean of "..", not
// hidden behind a ".." prefix and not both a file and a directory; it
// returns the top-level names.
func validatePayload(payload map[string]file) (map[string]bool, error) {
	tops := map[string]bool{}
	for p := range payload {
		if err := validatePath(p); err != nil {
			return nil, err
		}
		tops[strings.SplitN(p, "/", 2)[0]] = true
	}
	for p := range payload {
		for d := filepath.Dir(p); d != "."; d = filepath.Dir(d) {
			if _, ok := payload[d]; ok {
				return nil, fmt.Errorf("path %q is both a file and the directory of %q", d, p)
			}
		}
	}
	return tops, nil
}

func validatePath(p string) error {
	switch {
	case p == "":
		return errors.New("empty file path")
	case filepath.IsAbs(p):
		return fmt.Errorf("file path %q must be relative", p)
	case len(p) > 4096:
		return fmt.Errorf("file path %q is longer than 4096 characters", p[:32]+"...")
	case strings.HasPrefix(p, ".."):
		return fmt.Errorf("file path %q must not start with '..'", p)
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." || part == "" || part == "." {
			return fmt.Errorf("file path %q must not contain '..', '.' or empty elements", p)
		}
	}
	return nil
}

// sameContent says whether tsDir holds exactly payload.
func sameContent(tsDir string, payload map[string]file) bool {
	n := 0
	err := filepath.WalkDir(tsDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(tsDir, path)
		f, ok := payload[rel]
		if !ok {
			return errors.New("extra file")
		}
		info, err := d.Info()
		if err != nil || info.Mode().Perm() != f.Mode.Perm() {
			return errors.New("mode differs")
		}
		b, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(b, f.Data) {
			return errors.New("data differs")
		}
		n++
		return nil
	})
	return err == nil && n == len(payload)
}

func writeFiles(tsDir string, payload map[string]file) error {
	if err := os.Chmod(tsDir, 0o755); err != nil {
		return fmt.Errorf("chmod %s: %w", tsDir, err)
	}
	for p, f := range payload {
		path := filepath.Join(tsDir, p)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("create directory for %s: %w", p, err)
		}
		if err := os.WriteFile(path, f.Data, f.Mode.Perm()); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
		// WriteFile's mode is filtered by the umask; set it exactly.
		if err := os.Chmod(path, f.Mode.Perm()); err != nil {
			return fmt.Errorf("chmod %s: %w", p, err)
		}
	}
	return nil
}

// swapDataLink points dir/..data at ts in one rename.
func swapDataLink(dir, ts string) error {
	tmp := filepath.Join(dir, dataLinkTmp)
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove stale %s: %w", dataLinkTmp, err)
	}
	if err := os.Symlink(ts, tmp); err != nil {
		return fmt.Errorf("create %s: %w", dataLinkTmp, err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, dataLink)); err != nil {
		return fmt.Errorf("swap %s: %w", dataLink, err)
	}
	return nil
}

// linkTops makes dir/<name> -> ..data/<name> for every top-level name.
func linkTops(dir string, tops map[string]bool) error {
	for name := range tops {
		path := filepath.Join(dir, name)
		fi, err := os.Lstat(path)
		switch {
		case err == nil && fi.Mode()&fs.ModeSymlink != 0:
			continue
		case err == nil:
			return fmt.Errorf("%s exists and is not a symlink", path)
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("inspect %s: %w", path, err)
		}
		if err := os.Symlink(filepath.Join(dataLink, name), path); err != nil {
			return fmt.Errorf("link %s: %w", name, err)
		}
	}
	return nil
}

// removeStale removes user-visible symlinks no longer in the payload.
func removeStale(dir string, tops map[string]bool) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("list %s: %w", dir, err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "..") || tops[e.Name()] || e.Type()&fs.ModeSymlink == 0 {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("remove stale %s: %w", e.Name(), err)
		}
	}
	return nil
}
