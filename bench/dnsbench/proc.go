package dnsbench

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// procs tracks every process the benchmark starts so that all of them are
// stopped, by PID, on success, error and interrupt alike.
type procs struct {
	mu   sync.Mutex
	live map[int]*proc
}

// proc is one started process and where its output goes.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

func newProcs() *procs { return &procs{live: map[int]*proc{}} }

// start runs argv with stdout and stderr appended to logPath. With cpus
// set the process runs under `taskset -c cpus` (taskset execs, so the PID
// is the program's own).
func (ps *procs) start(name, logPath, cpus string, env []string, argv ...string) (*proc, error) {
	if cpus != "" {
		argv = append([]string{"taskset", "-c", cpus}, argv...)
	}
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open log of %s: %w", name, err)
	}
	defer f.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), env...)
	// Own process group: a ctrl-C on the terminal reaches only us, and we
	// stop the children in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (%s): %w", name, strings.Join(argv, " "), err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	ps.mu.Lock()
	ps.live[cmd.Process.Pid] = p
	ps.mu.Unlock()
	return p, nil
}

// exited reports whether p has ended, with its error.
func (p *proc) exited() (bool, error) {
	select {
	case <-p.done:
		return true, fmt.Errorf("%s exited: %v; log %s:\n%s", p.name, p.err, p.log, tail(p.log, 20))
	default:
		return false, nil
	}
}

// stop ends p: SIGTERM, then SIGKILL after 5 s.
func (ps *procs) stop(p *proc) {
	if p == nil {
		return
	}
	ps.mu.Lock()
	delete(ps.live, p.cmd.Process.Pid)
	ps.mu.Unlock()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// stopAll stops every process still running, newest first.
func (ps *procs) stopAll() {
	ps.mu.Lock()
	var all []*proc
	for _, p := range ps.live {
		all = append(all, p)
	}
	ps.mu.Unlock()
	for i := len(all) - 1; i >= 0; i-- {
		ps.stop(all[i])
	}
}

// memKiB is a process's resident memory: all of it (VmRSS, which
// counts the pages of the executable mapped so far) and the private part
// (RssAnon: heap, stacks), which is what the server's data costs.
type memKiB struct{ RSS, Anon int }

// memOf reads a process's memory from /proc.
func memOf(pid int) (memKiB, error) {
	st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return memKiB{}, fmt.Errorf("read memory of pid %d: %w", pid, err)
	}
	return parseStatusMem(string(st))
}

func parseStatusMem(status string) (memKiB, error) {
	var m memKiB
	found := 0
	for _, line := range strings.Split(status, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || (f[0] != "VmRSS:" && f[0] != "RssAnon:") {
			continue
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			return memKiB{}, fmt.Errorf("parse %q: %w", line, err)
		}
		if f[0] == "VmRSS:" {
			m.RSS = n
		} else {
			m.Anon = n
		}
		found++
	}
	if found != 2 {
		return memKiB{}, fmt.Errorf("no VmRSS and RssAnon lines in /proc status")
	}
	return m, nil
}

// tail is the last n lines of a file, for error messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
