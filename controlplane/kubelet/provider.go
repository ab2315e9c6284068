package kubelet

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"k8s.io/utils/exec"

	"rudder/controlplane/kubelet/server"
)

// liveIndex is the part of a pod worker's state other goroutines read:
// the current instance of each container and its log files.
type liveIndex struct {
	mu    sync.Mutex
	ctrs  map[string]liveCtr
	netns string // "" for hostNetwork pods
}

type liveCtr struct {
	c            Container
	log, prevLog string // prevLog: the ended instance before this one, "" if none
}

func (l *liveIndex) set(name string, c Container, log string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ctrs == nil {
		l.ctrs = map[string]liveCtr{}
	}
	old, had := l.ctrs[name]
	e := liveCtr{c: c, log: log}
	if had && old.log != "" && old.log != log {
		e.prevLog = old.log
	}
	l.ctrs[name] = e
}

func (l *liveIndex) get(name string) (liveCtr, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.ctrs[name]
	return e, ok
}

// workerFor finds the worker of a pod by namespace and name.
func (k *Kubelet) workerFor(namespace, pod string) (*podWorker, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, w := range k.workers {
		if w.ns == namespace && w.name == pod {
			return w, nil
		}
	}
	return nil, fmt.Errorf("pod %s/%s on node %s: %w", namespace, pod, k.cfg.NodeName, server.ErrNotFound)
}

func (k *Kubelet) container(namespace, pod, container string) (*podWorker, liveCtr, error) {
	w, err := k.workerFor(namespace, pod)
	if err != nil {
		return nil, liveCtr{}, err
	}
	e, ok := w.live.get(container)
	if !ok {
		return w, e, fmt.Errorf("container %s in pod %s/%s has not started: %w", container, namespace, pod, server.ErrNotFound)
	}
	return w, e, nil
}

// Lookup implements server.Provider.
func (k *Kubelet) Lookup(namespace, pod, container string) error {
	if container == "" {
		_, err := k.workerFor(namespace, pod)
		return err
	}
	_, _, err := k.container(namespace, pod, container)
	return err
}

// LogFile implements server.Provider.
func (k *Kubelet) LogFile(namespace, pod, container string, previous bool) (string, error) {
	_, e, err := k.container(namespace, pod, container)
	if err != nil {
		return "", err
	}
	if previous {
		if e.prevLog == "" {
			return "", fmt.Errorf("previous terminated container %q in pod %q not found: %w", container, pod, server.ErrNotFound)
		}
		return e.prevLog, nil
	}
	return e.log, nil
}

// Running implements server.Provider.
func (k *Kubelet) Running(namespace, pod, container string) (bool, error) {
	_, e, err := k.container(namespace, pod, container)
	if err != nil {
		return false, err
	}
	select {
	case <-e.c.Done():
		return false, nil
	default:
		return true, nil
	}
}

// Exec implements server.Provider: a non-zero exit is an exit-code error
// the client reports as such.
func (k *Kubelet) Exec(ctx context.Context, namespace, pod, container string, cmd []string, in io.Reader, out, errw io.WriteCloser, tty bool, resize <-chan server.TermSize) error {
	_, e, err := k.container(namespace, pod, container)
	if err != nil {
		return err
	}
	sizes := make(chan TermSize)
	go func() {
		defer close(sizes)
		for s := range resize {
			select {
			case sizes <- TermSize{Width: s.Width, Height: s.Height}:
			case <-ctx.Done():
				return
			}
		}
	}()
	s := ExecStreams{Stdin: in, TTY: tty, Resize: sizes}
	if out != nil {
		s.Stdout = out
	}
	if errw != nil {
		s.Stderr = errw
	}
	code, err := k.rt.Exec(ctx, e.c, cmd, s)
	if err != nil {
		return err
	}
	if code != 0 {
		return exec.CodeExitError{Err: fmt.Errorf("command terminated with non-zero exit code %d", code), Code: code}
	}
	return nil
}

// PortForward implements server.Provider: a connection to the port on
// the pod's loopback, from inside its network namespace.
func (k *Kubelet) PortForward(ctx context.Context, namespace, pod string, port int32, stream io.ReadWriteCloser) error {
	w, err := k.workerFor(namespace, pod)
	if err != nil {
		return err
	}
	w.live.mu.Lock()
	nsPath := w.live.netns
	w.live.mu.Unlock()
	var conn net.Conn
	if nsPath == "" {
		d := net.Dialer{Timeout: 5 * time.Second}
		conn, err = d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port))))
	} else {
		conn, err = server.DialInNetNS(ctx, nsPath, port)
	}
	if err != nil {
		return fmt.Errorf("forward to port %d of pod %s/%s: %w", port, namespace, pod, err)
	}
	return server.Splice(ctx, conn, stream)
}
