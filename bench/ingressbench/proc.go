package ingressbench

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// procs tracks every process the benchmark starts so that all of them are
// stopped, by PID, on success, error and interrupt alike.
type procs struct {
	mu   sync.Mutex
	live []*proc
}

// proc is one started process and where its output goes.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// start runs argv with stdout and stderr appended to logPath, with env
// added to this process's environment. With cpus set the process runs
// under `taskset -c cpus` (taskset execs, so the PID is the program's own).
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
	ps.live = append(ps.live, p)
	ps.mu.Unlock()
	return p, nil
}

// exited reports whether p has ended, with its error and log.
func (p *proc) exited() (bool, error) {
	select {
	case <-p.done:
		return true, fmt.Errorf("%s exited: %v; log %s:\n%s", p.name, p.err, p.log, tail(p.log, 20))
	default:
		return false, nil
	}
}

// stop ends p: SIGTERM (nginx: a fast shutdown that also ends its
// workers), then SIGKILL after 5 s.
func (ps *procs) stop(p *proc) {
	if p == nil {
		return
	}
	ps.mu.Lock()
	for i, q := range ps.live {
		if q == p {
			ps.live = append(ps.live[:i], ps.live[i+1:]...)
			break
		}
	}
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
	all := append([]*proc(nil), ps.live...)
	ps.mu.Unlock()
	for i := len(all) - 1; i >= 0; i-- {
		ps.stop(all[i])
	}
}

// pinProcess moves every thread of pid to the CPUs in cpus ("0", "1",
// "0,1"); threads created later inherit the affinity.
func pinProcess(pid int, cpus string) error {
	var set unix.CPUSet
	for _, c := range strings.Split(cpus, ",") {
		n, err := strconv.Atoi(c)
		if err != nil || n < 0 {
			return fmt.Errorf("bad CPU %q in %q", c, cpus)
		}
		set.Set(n)
	}
	tasks, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	if err != nil {
		return fmt.Errorf("list threads of pid %d: %w", pid, err)
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		// A thread may have exited since the listing: ignore ESRCH.
		if err := unix.SchedSetaffinity(tid, &set); err != nil && err != unix.ESRCH {
			return fmt.Errorf("pin thread %d of pid %d to CPUs %s: %w", tid, pid, cpus, err)
		}
	}
	return nil
}

// memKiB is resident memory: all of it (VmRSS) and the private part
// (RssAnon: heap, stacks), summed over Procs processes.
type memKiB struct{ RSS, Anon, Procs int }

// treeMem sums the memory of pid and its children (nginx: the master
// and its workers).
func treeMem(pid int) (memKiB, error) {
	pids := append([]int{pid}, childrenOf(pid)...)
	var sum memKiB
	for _, p := range pids {
		st, err := os.ReadFile("/proc/" + strconv.Itoa(p) + "/status")
		if err != nil {
			return memKiB{}, fmt.Errorf("read memory of pid %d: %w", p, err)
		}
		m, err := parseStatusMem(string(st))
		if err != nil {
			return memKiB{}, fmt.Errorf("memory of pid %d: %w", p, err)
		}
		sum.RSS, sum.Anon, sum.Procs = sum.RSS+m.RSS, sum.Anon+m.Anon, sum.Procs+1
	}
	return sum, nil
}

// childrenOf lists the processes whose parent is pid.
func childrenOf(pid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err == nil && parentOf(string(st)) == pid {
			out = append(out, p)
		}
	}
	return out
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's CPU times: 100 on
// Linux whatever the kernel's HZ.
const clockTicks = 100

// treeCPU is the CPU time (user and system, all threads) pid and its
// children have used so far.
func treeCPU(pid int) (time.Duration, error) {
	var ticks int64
	for _, p := range append([]int{pid}, childrenOf(pid)...) {
		st, err := os.ReadFile("/proc/" + strconv.Itoa(p) + "/stat")
		if err != nil {
			return 0, fmt.Errorf("read CPU time of pid %d: %w", p, err)
		}
		t, err := cpuTicks(string(st))
		if err != nil {
			return 0, fmt.Errorf("CPU time of pid %d: %w", p, err)
		}
		ticks += t
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// cpuTicks is utime + stime (fields 14 and 15) of a /proc/PID/stat line.
func cpuTicks(stat string) (int64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("no command name in %q", stat)
	}
	// Fields after the name start at field 3 (state).
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("short stat line %q", stat)
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bad utime/stime in %q", stat)
	}
	return u + s, nil
}

// parentOf is the PPID field of a /proc/PID/stat line (after the
// command name, which may hold spaces and parentheses), or -1.
func parentOf(stat string) int {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 2 {
		return -1
	}
	n, err := strconv.Atoi(f[1])
	if err != nil {
		return -1
	}
	return n
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
	return lastLines(string(b), n)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
