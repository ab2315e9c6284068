package lab

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// parseStat returns the state (field 3) and start time (field 22) of a
// /proc/<pid>/stat line. The command name (field 2) may hold spaces and
// parentheses, so fields are counted after its last ')'.
func parseStat(line string) (state byte, start uint64, err error) {
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("parse /proc stat %q: no command name", line)
	}
	f := strings.Fields(line[i+1:])
	// f[0] is field 3 (state); field 22 is f[19].
	if len(f) < 20 || len(f[0]) != 1 {
		return 0, 0, fmt.Errorf("parse /proc stat %q: too few fields", line)
	}
	start, err = strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("parse /proc stat start time %q: %w", f[19], err)
	}
	return f[0][0], start, nil
}

// procStat reads the state and start time of pid.
func procStat(pid int) (byte, uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	return parseStat(string(b))
}

// newProc records pid with its start time.
func newProc(pid int) (*Proc, error) {
	_, start, err := procStat(pid)
	if err != nil {
		return nil, fmt.Errorf("read start time of pid %d: %w", pid, err)
	}
	return &Proc{PID: pid, StartTime: start}, nil
}

// Alive reports whether the recorded process still runs: same PID, same
// start time, not a zombie.
func (p *Proc) Alive() bool {
	if p == nil || p.PID <= 0 {
		return false
	}
	state, start, err := procStat(p.PID)
	return err == nil && start == p.StartTime && state != 'Z' && state != 'X'
}

// signal sends sig only if the process is still the one recorded.
func (p *Proc) signal(sig syscall.Signal) error {
	if !p.Alive() {
		return nil
	}
	if err := syscall.Kill(p.PID, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal pid %d: %w", p.PID, err)
	}
	return nil
}

// stopProcs sends SIGTERM to every live recorded process, waits up to
// grace for them to exit, then sends SIGKILL to the rest. It returns the
// PIDs it stopped.
func stopProcs(procs []*Proc, grace time.Duration) ([]int, error) {
	var live []*Proc
	var errs []error
	for _, p := range procs {
		if p.Alive() {
			live = append(live, p)
			errs = append(errs, p.signal(syscall.SIGTERM))
		}
	}
	deadline := time.Now().Add(grace)
	for anyAlive(live) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	for _, p := range live {
		errs = append(errs, p.signal(syscall.SIGKILL))
	}
	pids := make([]int, 0, len(live))
	for _, p := range live {
		pids = append(pids, p.PID)
	}
	return pids, errors.Join(errs...)
}

func anyAlive(procs []*Proc) bool {
	for _, p := range procs {
		if p.Alive() {
			return true
		}
	}
	return false
}

// killPID sends SIGKILL to pid (used for processes found in the lab's
// cgroup, which are the lab's by construction).
func killPID(pid int) error {
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill pid %d: %w", pid, err)
	}
	return nil
}
