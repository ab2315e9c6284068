package dnsbench

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// pinSelf moves every thread of this process to cpu (threads created
// later inherit it) and returns a function that restores the original
// affinity. The fixed-rate generator runs in this process, so this pins it
// the way taskset pins dnsperf.
func pinSelf(cpu int) (restore func(), err error) {
	var orig, want unix.CPUSet
	if err := unix.SchedGetaffinity(0, &orig); err != nil {
		return nil, fmt.Errorf("read CPU affinity: %w", err)
	}
	want.Set(cpu)
	if err := setAllThreads(&want); err != nil {
		_ = setAllThreads(&orig)
		return nil, fmt.Errorf("pin to CPU %d: %w", cpu, err)
	}
	return func() { _ = setAllThreads(&orig) }, nil
}

func setAllThreads(set *unix.CPUSet) error {
	tasks, err := os.ReadDir("/proc/self/task")
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
