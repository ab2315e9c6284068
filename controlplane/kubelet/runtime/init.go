package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	goruntime "runtime"

	"golang.org/x/sys/unix"
)

// The file descriptors a container-init process inherits.
const (
	initSpecFD  = 3 // read end of a pipe carrying the initSpec JSON
	initErrorFD = 4 // write end of a pipe for an init failure message
)

// initEnvMarker is set in container-init's environment by the runtime,
// so that the fds are only trusted when the runtime passed them.
const initEnvMarker = "RUDDER_CONTAINER_INIT"

// InitExitCode is the exit code of a container-init that failed.
const InitExitCode = 127

// initSpec is what container-init does before it becomes the program.
type initSpec struct {
	Argv     []string    `json:"argv"`
	Env      []string    `json:"env"`
	Dir      string      `json:"dir,omitempty"`
	Hostname string      `json:"hostname,omitempty"`
	NetNS    string      `json:"netns,omitempty"`
	Rootfs   string      `json:"rootfs,omitempty"`
	Mounts   []initMount `json:"mounts,omitempty"`
}

// initMount is a bind mount of Source (a tmpfs when Tmpfs) on Target.
type initMount struct {
	Source   string `json:"source,omitempty"`
	Target   string `json:"target"`
	ReadOnly bool   `json:"readOnly,omitempty"`
	Tmpfs    bool   `json:"tmpfs,omitempty"`
}

// RunInit is the body of the hidden `container-init` command, run by the
// runtime in a new mount (and UTS) namespace: it reads its spec from fd
// 3, applies mounts and hostname, enters the pod's network namespace and
// executes the program. It returns only on failure, after reporting the
// failure on fd 4; the caller then exits with a non-zero code.
func RunInit() error {
	if os.Getenv(initEnvMarker) != "1" {
		return errors.New("container-init is run by the rudder runtime only")
	}
	for _, fd := range []int{initSpecFD, initErrorFD} {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			return errors.New("container-init must be started by the rudder runtime (fds 3 and 4 missing)")
		}
	}
	errPipe := os.NewFile(initErrorFD, "init-error")
	specPipe := os.NewFile(initSpecFD, "init-spec")
	err := runInit(specPipe)
	_, _ = io.WriteString(errPipe, err.Error())
	return err
}

func runInit(specPipe *os.File) error {
	// Namespaces are per thread: stay on this one until exec.
	goruntime.LockOSThread()
	var spec initSpec
	if err := json.NewDecoder(specPipe).Decode(&spec); err != nil {
		return fmt.Errorf("read container spec: %w", err)
	}
	specPipe.Close()
	if len(spec.Argv) == 0 {
		return errors.New("container spec has no program")
	}
	var netns *os.File
	if spec.NetNS != "" {
		f, err := os.Open(spec.NetNS)
		if err != nil {
			return fmt.Errorf("open network namespace: %w", err)
		}
		netns = f
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	if spec.Hostname != "" {
		if err := unix.Sethostname([]byte(spec.Hostname)); err != nil {
			return fmt.Errorf("set hostname %q: %w", spec.Hostname, err)
		}
	}
	if netns != nil {
		if err := unix.Setns(int(netns.Fd()), unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("enter network namespace %s: %w", spec.NetNS, err)
		}
		netns.Close()
		// A sysfs mounted now shows the pod's interfaces, not the node's.
		sys := filepath.Join(spec.Rootfs, "/sys")
		if err := os.MkdirAll(sys, 0o555); err != nil {
			return fmt.Errorf("create /sys: %w", err)
		}
		if err := unix.Mount("sysfs", sys, "sysfs",
			unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
			return fmt.Errorf("mount sysfs of the pod network: %w", err)
		}
	}
	for _, m := range spec.Mounts {
		if err := applyMount(spec.Rootfs, m); err != nil {
			return err
		}
	}
	return execProgram(spec)
}

// applyMount creates the mount point when missing and mounts m.
func applyMount(rootfs string, m initMount) error {
	target := filepath.Join(rootfs, m.Target)
	if m.Tmpfs {
		if err := os.MkdirAll(target, 0o755); err != nil {
			return fmt.Errorf("create tmpfs mount point %s: %w", m.Target, err)
		}
		if err := unix.Mount("tmpfs", target, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755"); err != nil {
			return fmt.Errorf("mount tmpfs on %s: %w", m.Target, err)
		}
		return nil
	}
	st, err := os.Stat(m.Source)
	if err != nil {
		return fmt.Errorf("mount %s: source: %w", m.Target, err)
	}
	if err := makeMountPoint(target, st.IsDir()); err != nil {
		return fmt.Errorf("mount %s: %w", m.Target, err)
	}
	if err := unix.Mount(m.Source, target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s on %s: %w", m.Source, m.Target, err)
	}
	if m.ReadOnly {
		flags := uintptr(unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY)
		if err := unix.Mount("", target, "", flags, ""); err != nil {
			return fmt.Errorf("make %s read-only: %w", m.Target, err)
		}
	}
	return nil
}

// makeMountPoint creates target (a directory, or an empty file) when it
// does not exist yet.
func makeMountPoint(target string, dir bool) error {
	if _, err := os.Lstat(target); err == nil {
		return nil
	}
	if dir {
		return os.MkdirAll(target, 0o755)
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

// execProgram enters the rootfs and working directory and replaces this
// process with the program.
func execProgram(spec initSpec) error {
	if spec.Rootfs != "" {
		if err := unix.Chroot(spec.Rootfs); err != nil {
			return fmt.Errorf("chroot %s: %w", spec.Rootfs, err)
		}
		if err := os.Chdir("/"); err != nil {
			return fmt.Errorf("chdir to new root: %w", err)
		}
	}
	if spec.Dir != "" {
		if err := os.Chdir(spec.Dir); err != nil {
			return fmt.Errorf("working directory: %w", err)
		}
	}
	prog, err := lookPath(spec.Argv[0], envValue(spec.Env, "PATH"))
	if err != nil {
		return err
	}
	unix.CloseOnExec(initErrorFD)
	if err := unix.Exec(prog, spec.Argv, spec.Env); err != nil {
		return fmt.Errorf("exec %s: %w", prog, err)
	}
	return nil
}

// envValue returns the value of key in a KEY=value list (last wins).
func envValue(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if len(kv) > len(key) && kv[:len(key)] == key && kv[len(key)] == '=' {
			v = kv[len(key)+1:]
		}
	}
	return v
}
