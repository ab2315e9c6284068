package plugin

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/containernetworking/plugins/pkg/ns"
	"golang.org/x/sys/unix"
)

const netnsDir = "/run/netns"

// runPrefix names every namespace of one test run, "rdrt-<random>", so
// that leftovers are recognisable and runs never collide.
func runPrefix(t testing.TB) string {
	b := make([]byte, 3)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "rdrt-" + hex.EncodeToString(b)
}

// requireRoot skips tests that need namespaces when not root.
func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates network namespaces")
	}
}

// newNetns creates the namespace /run/netns/<name> as `ip netns add`
// does, and removes it when the test ends, also on failure.
func newNetns(t testing.TB, name string) ns.NetNS {
	t.Helper()
	path := filepath.Join(netnsDir, name)
	if err := createNetns(path); err != nil {
		t.Fatalf("create netns %s: %v", name, err)
	}
	h, err := ns.GetNS(path)
	if err != nil {
		removeNetns(path)
		t.Fatalf("open netns %s: %v", name, err)
	}
	t.Cleanup(func() {
		h.Close()
		removeNetns(path)
	})
	return h
}

func createNetns(path string) error {
	if err := os.MkdirAll(netnsDir, 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o444)
	if err != nil {
		return err
	}
	f.Close()
	errc := make(chan error, 1)
	go func() {
		// The thread is never unlocked: it exits with the goroutine, so its
		// new namespace never leaks to other goroutines.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("unshare: %w", err)
			return
		}
		self := fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), unix.Gettid())
		errc <- unix.Mount(self, path, "none", unix.MS_BIND, "")
	}()
	if err := <-errc; err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

func removeNetns(path string) {
	_ = unix.Unmount(path, unix.MNT_DETACH)
	_ = os.Remove(path)
}

// inNetns runs fn on a thread inside n.
func inNetns(t testing.TB, n ns.NetNS, fn func() error) {
	t.Helper()
	if err := n.Do(func(ns.NetNS) error { return fn() }); err != nil {
		t.Fatalf("in %s: %v", n.Path(), err)
	}
}
