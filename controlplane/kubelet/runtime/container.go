package runtime

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Container is a started container instance.
type Container struct {
	id       string
	spec     ContainerSpec
	env      []string
	dir      string
	rootfs   string
	logPath  string
	stateDir string
	cgroup   string // "" without cgroups

	pid       int
	startedAt time.Time
	logs      sync.WaitGroup

	done chan struct{}
	exit ExitStatus // valid once done is closed
}

// ExitStatus is how a container instance ended.
type ExitStatus struct {
	Code       int
	Signal     string // e.g. "killed" when ended by a signal
	Reason     string // "Completed", "Error", "OOMKilled"
	Message    string
	FinishedAt time.Time
}

// ID is unique to this container instance.
func (c *Container) ID() string { return c.id }

// PID is the process ID of the container's program.
func (c *Container) PID() int { return c.pid }

// StartedAt is when the program was executed.
func (c *Container) StartedAt() time.Time { return c.startedAt }

// Done is closed when the program has exited, its leftover processes
// are gone and its logs are written; Exit is valid then.
func (c *Container) Done() <-chan struct{} { return c.done }

// Exit is how the container ended; zero before Done is closed.
func (c *Container) Exit() ExitStatus {
	select {
	case <-c.done:
		return c.exit
	default:
		return ExitStatus{}
	}
}

// LogPath is the container instance's log file.
func (c *Container) LogPath() string { return c.logPath }

// Spec is the spec the container was started from.
func (c *Container) Spec() ContainerSpec { return c.spec }

// logCopyTimeout bounds how long a finished container waits for its
// log pipes, which a process outside its cgroup might hold open.
const logCopyTimeout = 2 * time.Second

// startLogs copies both output streams into the log file.
func (c *Container) startLogs(f *os.File, stdout, stderr *os.File) {
	bw := bufio.NewWriter(f)
	l := &criLog{w: &flushWriter{w: bw}, now: time.Now}
	var files sync.WaitGroup
	for stream, r := range map[string]*os.File{"stdout": stdout, "stderr": stderr} {
		files.Add(1)
		c.logs.Add(1)
		go func() {
			defer c.logs.Done()
			defer files.Done()
			defer r.Close()
			_ = l.copyStream(stream, r)
		}()
	}
	go func() {
		files.Wait()
		_ = f.Close()
	}()
}

// flushWriter flushes after each record, so logs are readable at once.
type flushWriter struct{ w *bufio.Writer }

func (f *flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err != nil {
		return n, err
	}
	return n, f.w.Flush()
}

// wait reaps the program, ends what it left behind (as a PID namespace
// would), lets the logs drain and records the exit.
func (c *Container) wait(r *Runtime, cmd *exec.Cmd) {
	err := cmd.Wait()
	finished := time.Now()
	oom := false
	if c.cgroup != "" {
		oom = oomKills(c.cgroup) > 0
		if kerr := r.cgroups.kill(c.cgroup, 5*time.Second); kerr != nil {
			r.log.Warn("container cgroup left behind", "id", c.id, "err", kerr)
		}
		_ = os.Remove(filepath.Dir(c.cgroup)) // the pod's, once empty
	} else {
		_ = syscall.Kill(-c.pid, syscall.SIGKILL)
	}
	logsDone := make(chan struct{})
	go func() { c.logs.Wait(); close(logsDone) }()
	select {
	case <-logsDone:
	case <-time.After(logCopyTimeout):
		r.log.Warn("container output still open after exit", "id", c.id)
	}
	_ = os.RemoveAll(c.stateDir)
	c.exit = exitStatus(cmd.ProcessState, err, oom)
	c.exit.FinishedAt = finished
	close(c.done)
	r.log.Info("container exited", "pod", c.spec.PodNamespace+"/"+c.spec.PodName, "container", c.spec.Name,
		"id", c.id, "code", c.exit.Code, "signal", c.exit.Signal, "reason", c.exit.Reason)
}

// exitStatus turns a reaped process into an ExitStatus (Kubernetes
// conventions: 128+n for signal n).
func exitStatus(ps *os.ProcessState, waitErr error, oom bool) ExitStatus {
	var e ExitStatus
	if ps == nil {
		return ExitStatus{Code: -1, Reason: "Error", Message: fmt.Sprintf("wait: %v", waitErr)}
	}
	ws, _ := ps.Sys().(syscall.WaitStatus)
	e.Code = ps.ExitCode()
	if ws.Signaled() {
		e.Code = 128 + int(ws.Signal())
		e.Signal = ws.Signal().String()
	}
	switch {
	case oom:
		e.Reason = "OOMKilled"
	case e.Code == 0:
		e.Reason = "Completed"
	default:
		e.Reason = "Error"
	}
	return e
}

// oomKills reads the oom_kill count of a cgroup (0 when unknown).
func oomKills(dir string) int {
	data, err := os.ReadFile(filepath.Join(dir, "memory.events"))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "oom_kill "); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}

// Stop sends SIGTERM to the program and, when it has not exited after
// grace, kills every process of the container (its cgroup, or its
// process group without cgroups). It returns once the container is done.
func (r *Runtime) Stop(c *Container, grace time.Duration) error {
	select {
	case <-c.done:
		return nil
	default:
	}
	if err := syscall.Kill(c.pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop container %s: %w", c.spec.Name, err)
	}
	select {
	case <-c.done:
		return nil
	case <-time.After(grace):
	}
	r.log.Info("container did not stop in time, killing it", "id", c.id, "grace", grace)
	if c.cgroup != "" {
		if err := os.WriteFile(filepath.Join(c.cgroup, "cgroup.kill"), []byte("1"), 0); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("kill container %s: %w", c.spec.Name, err)
		}
	} else {
		_ = syscall.Kill(-c.pid, syscall.SIGKILL)
	}
	select {
	case <-c.done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("stop container %s: still running 10s after SIGKILL", c.spec.Name)
	}
}
