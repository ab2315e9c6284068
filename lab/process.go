package lab

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// startInCgroup starts argv as a daemon (own session, no stdin) directly
// inside cgroupDir (clone3 CLONE_INTO_CGROUP), its output appended to
// logPath. A goroutine reaps it when it exits.
func startInCgroup(argv []string, logPath, cgroupDir string) (*Proc, error) {
	if len(argv) == 0 {
		return nil, fmt.Errorf("start process: empty command")
	}
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	defer logf.Close()
	cg, err := os.Open(cgroupDir)
	if err != nil {
		return nil, fmt.Errorf("open cgroup: %w", err)
	}
	defer cg.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, UseCgroupFD: true, CgroupFD: int(cg.Fd())}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s in cgroup %s: %w", argv[0], cgroupDir, err)
	}
	// Read the start time before reaping can make the PID disappear.
	p, err := newProc(cmd.Process.Pid)
	go func() { _ = cmd.Wait() }()
	if err != nil {
		_ = cmd.Process.Kill()
		return nil, err
	}
	return p, nil
}

// nsenterArgv wraps argv to run inside the network namespace at nsPath
// (util-linux nsenter execs it, so the PID stays the same).
func nsenterArgv(nsPath string, argv []string) []string {
	return append([]string{"nsenter", "--net=" + nsPath, "--"}, argv...)
}

// logTail returns the last n lines of a log file, indented, for errors.
func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("    (no log %s: %v)", path, err)
	}
	lines := strings.Split(string(bytes.TrimRight(b, "\n")), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "    " + strings.Join(lines, "\n    ")
}
