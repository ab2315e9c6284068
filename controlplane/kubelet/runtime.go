package kubelet

import (
	"context"
	"io"
	"time"
)

// Runtime is what the kubelet needs from a container runtime. The process
// runtime in ./runtime implements it (through an adapter in the agent);
// tests use a fake.
type Runtime interface {
	// Start runs a container and returns once its program runs, or the
	// reason it could not start (an *ImageError for image problems).
	Start(ctx context.Context, s ContainerSpec) (Container, error)
	// Stop sends SIGTERM and, after grace, kills what is left.
	Stop(c Container, grace time.Duration) error
	// Exec runs cmd inside a running container's namespaces.
	Exec(ctx context.Context, c Container, cmd []string, s ExecStreams) (exitCode int, err error)
	// KillPod ends every process of a pod, also ones left by an earlier
	// kubelet.
	KillPod(podUID string) error
	// LogPath is the log file of a container instance.
	LogPath(namespace, pod, uid, container string, restartCount int) string
}

// ContainerSpec is one container instance to start.
type ContainerSpec struct {
	PodUID, PodNamespace, PodName string
	Name                          string
	RestartCount                  int
	Image                         string
	Command, Args                 []string
	Env                           []string
	WorkingDir                    string
	NetNS                         string // "" = the node's network namespace
	Hostname                      string // "" = keep the node's
	Mounts                        []Mount
}

// Mount is a bind mount into a container.
type Mount struct {
	Source, Target string
	ReadOnly       bool
}

// Container is a started container instance.
type Container interface {
	ID() string
	PID() int
	StartedAt() time.Time
	// Done is closed when the process has exited; Exit is valid then.
	Done() <-chan struct{}
	Exit() ExitStatus
}

// ExitStatus is how a container instance ended.
type ExitStatus struct {
	Code       int
	Signal     string // e.g. "killed" when ended by a signal
	Reason     string // "Completed", "Error", …
	Message    string
	FinishedAt time.Time
}

// ExecStreams are the standard streams of an exec.
type ExecStreams struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	TTY            bool
	Resize         <-chan TermSize
}

// TermSize is a terminal size change.
type TermSize struct{ Width, Height uint16 }

// ImageError is a container that cannot start because its image cannot be
// provided; Reason is the waiting reason upstream uses (ErrImagePull).
type ImageError struct {
	Reason, Message string
}

func (e *ImageError) Error() string { return e.Message }
