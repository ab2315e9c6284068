package benchproc

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Mem is resident memory in KiB: all of it (VmRSS, which counts the pages
// of the executable mapped so far) and the private part (RssAnon: heap,
// stacks), summed over Procs processes.
type Mem struct{ RSS, Anon, Procs int }

// MemOf reads the memory of one process from /proc.
func MemOf(pid int) (Mem, error) {
	st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return Mem{}, fmt.Errorf("read memory of pid %d: %w", pid, err)
	}
	m, err := parseStatusMem(string(st))
	if err != nil {
		return Mem{}, fmt.Errorf("memory of pid %d: %w", pid, err)
	}
	m.Procs = 1
	return m, nil
}

// TreeMem sums the memory of pid and its children (nginx: the master
// and its workers).
func TreeMem(pid int) (Mem, error) {
	var sum Mem
	for _, p := range append([]int{pid}, Children(pid)...) {
		m, err := MemOf(p)
		if err != nil {
			return Mem{}, err
		}
		sum.RSS, sum.Anon, sum.Procs = sum.RSS+m.RSS, sum.Anon+m.Anon, sum.Procs+m.Procs
	}
	return sum, nil
}

// parseStatusMem reads VmRSS and RssAnon from /proc/PID/status.
func parseStatusMem(status string) (Mem, error) {
	var m Mem
	found := 0
	for _, line := range strings.Split(status, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || (f[0] != "VmRSS:" && f[0] != "RssAnon:") {
			continue
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			return Mem{}, fmt.Errorf("parse %q: %w", line, err)
		}
		if f[0] == "VmRSS:" {
			m.RSS = n
		} else {
			m.Anon = n
		}
		found++
	}
	if found != 2 {
		return Mem{}, fmt.Errorf("no VmRSS and RssAnon lines in /proc status")
	}
	return m, nil
}

// Children lists the processes whose parent is pid.
func Children(pid int) []int {
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

// TreeCPU is the CPU time (user and system, all threads) pid and its
// children have used so far.
func TreeCPU(pid int) (time.Duration, error) {
	var ticks int64
	for _, p := range append([]int{pid}, Children(pid)...) {
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

// statFields are the fields of a /proc/PID/stat line after the command
// name (which may hold spaces and parentheses), from field 3 (state) on.
func statFields(stat string) ([]string, bool) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return nil, false
	}
	return strings.Fields(stat[i+1:]), true
}

// cpuTicks is utime + stime (fields 14 and 15) of a /proc/PID/stat line.
func cpuTicks(stat string) (int64, error) {
	f, ok := statFields(stat)
	if !ok {
		return 0, fmt.Errorf("no command name in %q", stat)
	}
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

// parentOf is the PPID field (4) of a /proc/PID/stat line, or -1.
func parentOf(stat string) int {
	f, ok := statFields(stat)
	if !ok || len(f) < 2 {
		return -1
	}
	n, err := strconv.Atoi(f[1])
	if err != nil {
		return -1
	}
	return n
}
