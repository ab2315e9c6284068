// Package benchproc runs the processes of a benchmark: each started by
// argv with its output in a log file, optionally pinned to CPUs, stopped
// by PID, and measured (memory, CPU time) from /proc.
package benchproc

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Group tracks every process a benchmark starts so that all of them are
// stopped, by PID, on success, error and interrupt alike. The zero value
// is ready to use.
type Group struct {
	mu   sync.Mutex
	live []*Proc
}

// Proc is one started process and where its output goes.
type Proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

// Name is the name the process was started with, for messages.
func (p *Proc) Name() string { return p.name }

// PID is the process's ID.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Log is the path of the file its stdout and stderr go to.
func (p *Proc) Log() string { return p.log }

// Start runs argv with stdout and stderr appended to logPath, with env
// added to this process's environment. With cpus set ("0", "0,1") the
// process runs under `taskset -c cpus` (taskset execs, so the PID is the
// program's own).
func (g *Group) Start(name, logPath, cpus string, env []string, argv ...string) (*Proc, error) {
	if len(argv) == 0 {
		return nil, fmt.Errorf("start %s: no command", name)
	}
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
	p := &Proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	g.mu.Lock()
	g.live = append(g.live, p)
	g.mu.Unlock()
	return p, nil
}

// Exited reports whether p has ended, with an error holding its exit
// status and the end of its log.
func (p *Proc) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, fmt.Errorf("%s exited: %v; log %s:\n%s", p.name, p.err, p.log, Tail(p.log, 20))
	default:
		return false, nil
	}
}

// Poll calls ok every 200 ms until it is true, p exits (the error of
// Exited), ctx ends or timeout passes.
func (p *Proc) Poll(ctx context.Context, timeout time.Duration, ok func() bool) error {
	deadline := time.Now().Add(timeout)
	for {
		if done, err := p.Exited(); done {
			return err
		}
		if ok() {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready within %s", p.name, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Stop ends p: SIGTERM (nginx: a fast shutdown that also ends its
// workers), then SIGKILL after 5 s. A nil p is a no-op.
func (g *Group) Stop(p *Proc) {
	if p == nil {
		return
	}
	g.mu.Lock()
	for i, q := range g.live {
		if q == p {
			g.live = append(g.live[:i], g.live[i+1:]...)
			break
		}
	}
	g.mu.Unlock()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// StopAll stops every process still running, newest first.
func (g *Group) StopAll() {
	g.mu.Lock()
	all := append([]*Proc(nil), g.live...)
	g.mu.Unlock()
	for i := len(all) - 1; i >= 0; i-- {
		g.Stop(all[i])
	}
}

// FreeTCPPort is a TCP port free on 127.0.0.1 just now, for a process
// to listen on.
func FreeTCPPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
