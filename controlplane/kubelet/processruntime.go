package kubelet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"rudder/controlplane/kubelet/runtime"
)

// ProcessRuntime adapts the process runtime to the kubelet's Runtime.
type ProcessRuntime struct{ R *runtime.Runtime }

var _ Runtime = ProcessRuntime{}

// Start implements Runtime.
func (p ProcessRuntime) Start(ctx context.Context, s ContainerSpec) (Container, error) {
	spec := runtime.ContainerSpec{PodUID: s.PodUID, PodNamespace: s.PodNamespace, PodName: s.PodName, Name: s.Name,
		RestartCount: s.RestartCount, Image: s.Image, Command: s.Command, Args: s.Args, Env: s.Env,
		WorkingDir: s.WorkingDir, NetNS: s.NetNS, Hostname: s.Hostname}
	for _, m := range s.Mounts {
		spec.Mounts = append(spec.Mounts, runtime.Mount{Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly})
	}
	c, err := p.R.Start(ctx, spec)
	var imgErr *runtime.ImageError
	if errors.As(err, &imgErr) {
		return nil, &ImageError{Reason: imgErr.Reason, Message: imgErr.Message}
	}
	if err != nil {
		return nil, err
	}
	return processContainer{c}, nil
}

// Stop implements Runtime.
func (p ProcessRuntime) Stop(c Container, grace time.Duration) error {
	pc, ok := c.(processContainer)
	if !ok {
		return fmt.Errorf("stop: container %s is not a process container", c.ID())
	}
	return p.R.Stop(pc.c, grace)
}

// Exec implements Runtime.
func (p ProcessRuntime) Exec(ctx context.Context, c Container, cmd []string, s ExecStreams) (int, error) {
	pc, ok := c.(processContainer)
	if !ok {
		return 0, fmt.Errorf("exec: container %s is not a process container", c.ID())
	}
	var resize chan runtime.TermSize
	if s.Resize != nil {
		resize = make(chan runtime.TermSize)
		go func() {
			defer close(resize)
			for sz := range s.Resize {
				select {
				case resize <- runtime.TermSize{Width: sz.Width, Height: sz.Height}:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	return p.R.Exec(ctx, pc.c, cmd, runtime.ExecStreams{Stdin: s.Stdin, Stdout: s.Stdout, Stderr: s.Stderr, TTY: s.TTY, Resize: resize})
}

// KillPod implements Runtime.
func (p ProcessRuntime) KillPod(uid string) error { return p.R.KillPod(uid) }

// LogPath implements Runtime.
func (p ProcessRuntime) LogPath(namespace, pod, uid, container string, restartCount int) string {
	return p.R.LogPath(namespace, pod, uid, container, restartCount)
}

type processContainer struct{ c *runtime.Container }

func (p processContainer) ID() string            { return p.c.ID() }
func (p processContainer) PID() int              { return p.c.PID() }
func (p processContainer) StartedAt() time.Time  { return p.c.StartedAt() }
func (p processContainer) Done() <-chan struct{} { return p.c.Done() }
func (p processContainer) Exit() ExitStatus {
	e := p.c.Exit()
	return ExitStatus{Code: e.Code, Signal: e.Signal, Reason: e.Reason, Message: e.Message, FinishedAt: e.FinishedAt}
}
