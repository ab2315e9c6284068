package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ExecStreams are the standard streams of an exec.
type ExecStreams struct {
	// Stdin, when set, is copied to the command; Exec returns without
	// waiting for it to end, so the caller closes it afterwards.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// TTY runs the command on a pseudo-terminal; Stderr is then unused.
	TTY    bool
	Resize <-chan TermSize
}

// execWaitDelay bounds the wait for an exec's streams after it exited.
const execWaitDelay = 2 * time.Second

// TermSize is a terminal size.
type TermSize struct{ Width, Height uint16 }

// Exec runs cmd inside a running container's mount, network and UTS
// namespaces (with nsenter), in its working directory and cgroup, with
// the container's environment. Cancelling ctx kills it. The
// command's exit code is returned; err is for failures to run it.
func (r *Runtime) Exec(ctx context.Context, c *Container, cmd []string, s ExecStreams) (int, error) {
	if len(cmd) == 0 {
		return -1, errors.New("exec: no command")
	}
	select {
	case <-c.done:
		return -1, fmt.Errorf("exec in container %s: container is not running", c.spec.Name)
	default:
	}
	args := []string{"--target", strconv.Itoa(c.pid), "--mount", "--uts", "--net"}
	if c.rootfs != "" {
		args = append(args, "--root")
	}
	if c.dir != "" {
		args = append(args, "--wd="+c.dir)
	} else {
		args = append(args, "--wd=/")
	}
	x := exec.CommandContext(ctx, "nsenter", append(append(args, "--"), cmd...)...)
	x.Env = c.env
	if s.TTY && envValue(x.Env, "TERM") == "" {
		x.Env = append(x.Env[:len(x.Env):len(x.Env)], "TERM=xterm")
	}
	x.SysProcAttr = &syscall.SysProcAttr{}
	if c.cgroup != "" {
		cg, err := os.Open(c.cgroup)
		if err != nil {
			return -1, fmt.Errorf("exec in container %s: open cgroup: %w", c.spec.Name, err)
		}
		defer cg.Close()
		x.SysProcAttr.UseCgroupFD = true
		x.SysProcAttr.CgroupFD = int(cg.Fd())
	}
	var err error
	if s.TTY {
		err = runTTY(x, s)
	} else {
		err = runPlain(x, s)
	}
	return execResult(x, err)
}

// execResult turns a finished command into its exit code; only failures
// to run it at all are errors.
func execResult(x *exec.Cmd, err error) (int, error) {
	if x.ProcessState == nil {
		return -1, fmt.Errorf("exec: %w", err)
	}
	if ws, ok := x.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return x.ProcessState.ExitCode(), nil
}

// runPlain runs x with the streams of s. Stdin is copied by a goroutine
// that Exec does not wait for: it ends when the caller closes Stdin or
// writes to a finished command.
func runPlain(x *exec.Cmd, s ExecStreams) error {
	x.Stdout, x.Stderr = s.Stdout, s.Stderr
	// Do not wait long for background processes holding the output.
	x.WaitDelay = execWaitDelay
	if s.Stdin == nil {
		return x.Run()
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("exec: stdin pipe: %w", err)
	}
	x.Stdin = pr
	err = x.Start()
	_ = pr.Close()
	if err != nil {
		_ = pw.Close()
		return err
	}
	go func() {
		_, _ = io.Copy(pw, s.Stdin)
		_ = pw.Close()
	}()
	return x.Wait()
}

// runTTY runs x on a new pseudo-terminal, copying s.Stdin in and the
// terminal's output to s.Stdout, and applying size changes.
func runTTY(x *exec.Cmd, s ExecStreams) error {
	ptm, pts, err := openPTY()
	if err != nil {
		return fmt.Errorf("exec with tty: %w", err)
	}
	defer ptm.Close()
	x.Stdin, x.Stdout, x.Stderr = pts, pts, pts
	x.SysProcAttr.Setsid = true
	x.SysProcAttr.Setctty = true
	x.SysProcAttr.Ctty = 0
	err = x.Start()
	pts.Close()
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	if s.Resize != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case sz, ok := <-s.Resize:
					if !ok {
						return
					}
					_ = unix.IoctlSetWinsize(int(ptm.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: sz.Height, Col: sz.Width})
				case <-stop:
					return
				}
			}
		}()
	}
	if s.Stdin != nil {
		go func() { _, _ = io.Copy(ptm, s.Stdin) }() // ends with the terminal
	}
	out := make(chan struct{})
	go func() {
		defer close(out)
		if s.Stdout != nil {
			_, _ = io.Copy(s.Stdout, ptm) // EIO once the command is gone
		} else {
			_, _ = io.Copy(io.Discard, ptm)
		}
	}()
	err = x.Wait()
	<-out
	close(stop)
	wg.Wait()
	return err
}

// openPTY opens a new pseudo-terminal pair (master, slave).
func openPTY() (*os.File, *os.File, error) {
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open /dev/ptmx: %w", err)
	}
	fd := int(ptm.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		ptm.Close()
		return nil, nil, fmt.Errorf("unlock pty: %w", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		ptm.Close()
		return nil, nil, fmt.Errorf("pty number: %w", err)
	}
	pts, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		ptm.Close()
		return nil, nil, fmt.Errorf("open pty slave: %w", err)
	}
	return ptm, pts, nil
}
