// Package netns creates, enters and removes named network namespaces for
// the lab, the tests and the benchmarks. Every namespace is bind-mounted
// under /run/netns/<name> (so `ip netns exec` sees it) and named with a
// per-run prefix, so parallel runs and leftovers never collide.
package netns

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// Dir is where named namespaces are mounted, as iproute2 does.
const Dir = "/run/netns"

// NS is a named network namespace.
type NS struct {
	Name string
	Path string
}

// RunPrefix returns a short prefix unique to this run, e.g. "rdr-3fa2c1".
func RunPrefix(base string) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return base + "-" + hex.EncodeToString(b)
}

// Create makes a new namespace named name and mounts it under Dir. The
// calling goroutine's namespace is not changed.
func Create(name string) (*NS, error) {
	return CreateIn(Dir, name)
}

// CreateIn makes a new namespace mounted at dir/name (the kubelet keeps
// its pods' namespaces in its own directory).
func CreateIn(dir, name string) (*NS, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o444)
	if err != nil {
		return nil, fmt.Errorf("create namespace file %s: %w", path, err)
	}
	f.Close()
	errCh := make(chan error, 1)
	go func() {
		// A thread that unshares its namespace is never given back to
		// the Go scheduler: the goroutine exits with the thread locked.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errCh <- fmt.Errorf("unshare: %w", err)
			return
		}
		self := fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), unix.Gettid())
		errCh <- unix.Mount(self, path, "none", unix.MS_BIND, "")
	}()
	if err := <-errCh; err != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("create namespace %s: %w", name, err)
	}
	ns := &NS{Name: name, Path: path}
	return ns, ns.linkUp("lo")
}

// Delete unmounts and removes the namespace (idempotent).
func (n *NS) Delete() error {
	if err := unix.Unmount(n.Path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmount %s: %w", n.Path, err)
	}
	if err := os.Remove(n.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", n.Path, err)
	}
	return nil
}

// Command returns a command that runs inside the namespace.
func (n *NS) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("nsenter", append([]string{"--net=" + n.Path, "--", name}, args...)...)
}

// Run runs a command inside the namespace and returns its combined output.
func (n *NS) Run(name string, args ...string) (string, error) {
	out, err := n.Command(name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s in %s: %w: %s", name, strings.Join(args, " "), n.Name, err, out)
	}
	return string(out), nil
}

// Sysctl sets /proc/sys/<key> inside the namespace; an empty value only
// checks that the key exists.
func (n *NS) Sysctl(key, value string) error {
	if value == "" {
		_, err := n.Run("cat", filepath.Join("/proc/sys", key))
		return err
	}
	_, err := n.Run("sh", "-c", fmt.Sprintf("echo %s > %s", value, filepath.Join("/proc/sys", key)))
	return err
}

func (n *NS) linkUp(name string) error {
	_, err := n.Run("ip", "link", "set", name, "up")
	return err
}

// Cleanup removes every namespace under Dir whose name starts with prefix,
// for `lab down` after a crash and for test leftovers.
func Cleanup(prefix string) error {
	entries, err := os.ReadDir(Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			errs = append(errs, (&NS{Name: e.Name(), Path: filepath.Join(Dir, e.Name())}).Delete())
		}
	}
	return errors.Join(errs...)
}

// Veth joins two namespaces with a veth pair, addresses both ends (CIDR
// notation, "" for none) and brings them up.
func Veth(a *NS, aName, aAddr string, b *NS, bName, bAddr string) error {
	if _, err := a.Run("ip", "link", "add", aName, "type", "veth", "peer", "name", bName, "netns", b.Name); err != nil {
		return err
	}
	for _, end := range []struct {
		ns         *NS
		name, addr string
	}{{a, aName, aAddr}, {b, bName, bAddr}} {
		if end.addr != "" {
			if _, err := end.ns.Run("ip", "addr", "add", end.addr, "dev", end.name); err != nil {
				return err
			}
		}
		if err := end.ns.linkUp(end.name); err != nil {
			return err
		}
	}
	return nil
}
