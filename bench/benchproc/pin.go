package benchproc

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Pin moves every thread of pid to the CPUs in cpus ("0", "1", "0,1");
// threads created later inherit the affinity.
func Pin(pid int, cpus string) error {
	set, err := parseCPUs(cpus)
	if err != nil {
		return err
	}
	if err := setThreads("/proc/"+strconv.Itoa(pid)+"/task", &set); err != nil {
		return fmt.Errorf("pin pid %d to CPUs %s: %w", pid, cpus, err)
	}
	return nil
}

// PinSelf moves every thread of this process to cpu (threads created
// later inherit it) and returns a function that restores the original
// affinity: an in-process load generator pinned the way taskset pins a
// program.
func PinSelf(cpu int) (restore func(), err error) {
	var orig, want unix.CPUSet
	if err := unix.SchedGetaffinity(0, &orig); err != nil {
		return nil, fmt.Errorf("read CPU affinity: %w", err)
	}
	want.Set(cpu)
	if err := setThreads("/proc/self/task", &want); err != nil {
		_ = setThreads("/proc/self/task", &orig)
		return nil, fmt.Errorf("pin to CPU %d: %w", cpu, err)
	}
	return func() { _ = setThreads("/proc/self/task", &orig) }, nil
}

// parseCPUs reads a comma-separated list of CPU numbers.
func parseCPUs(cpus string) (unix.CPUSet, error) {
	var set unix.CPUSet
	for _, c := range strings.Split(cpus, ",") {
		n, err := strconv.Atoi(c)
		if err != nil || n < 0 {
			return set, fmt.Errorf("bad CPU %q in %q", c, cpus)
		}
		set.Set(n)
	}
	return set, nil
}

// setThreads sets the affinity of every thread listed in taskDir.
func setThreads(taskDir string, set *unix.CPUSet) error {
	tasks, err := os.ReadDir(taskDir)
	if err != nil {
		return fmt.Errorf("list threads: %w", err)
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		// A thread may have exited since the listing: ignore ESRCH.
		if err := unix.SchedSetaffinity(tid, set); err != nil && err != unix.ESRCH {
			return fmt.Errorf("set affinity of thread %d: %w", tid, err)
		}
	}
	return nil
}
