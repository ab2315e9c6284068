package server

import (
	"context"
	"errors"
	"io"
	"net/http"
)

// ErrNotFound is wrapped by Provider errors for an unknown pod or
// container; the client gets 404.
var ErrNotFound = errors.New("not found")

// TermSize is a terminal size sent by an exec client with a TTY.
type TermSize struct {
	Width  uint16
	Height uint16
}

// Provider is what the server needs from the kubelet. Errors wrapping
// ErrNotFound become 404, other errors 500.
type Provider interface {
	// Lookup returns nil when the pod (and, when container is not
	// empty, the container) exists on this node, an error wrapping
	// ErrNotFound when it does not. It is checked before a stream is
	// upgraded, where an error can still be an HTTP status.
	Lookup(namespace, pod, container string) error
	// LogFile returns the path of the CRI-format log file of the
	// container's current instance, or of the previous one (previous).
	LogFile(namespace, pod, container string, previous bool) (string, error)
	// Running reports whether the container's current instance still
	// runs: a followed log stops at its end of file once it has exited.
	Running(namespace, pod, container string) (bool, error)
	// Exec runs cmd in the container, copying in to its stdin and its
	// stdout and stderr to out and errw; in, out and errw are nil when
	// the client did not ask for them, resize is nil without a TTY. A
	// non-zero exit is an error wrapping a k8s.io/utils/exec.ExitError
	// (e.g. exec.CodeExitError), so that the client sees the exit code.
	Exec(ctx context.Context, namespace, pod, container string, cmd []string, in io.Reader, out, errw io.WriteCloser, tty bool, resize <-chan TermSize) error
	// PortForward copies between stream and port of the pod (see
	// DialInNetNS and Splice) until either side closes or ctx ends.
	PortForward(ctx context.Context, namespace, pod string, port int32, stream io.ReadWriteCloser) error
}

// providerStatus maps a Provider error to an HTTP status.
func providerStatus(err error) int {
	if errors.Is(err, ErrNotFound) {
		return http.StatusNotFound
	}
	return http.StatusInternalServerError
}

// writeProviderError answers a failed Provider call.
func (s *Server) writeProviderError(w http.ResponseWriter, r *http.Request, what string, err error) {
	code := providerStatus(err)
	if code == http.StatusInternalServerError {
		s.log.Error("kubelet server: "+what, "path", r.URL.Path, "err", err)
	}
	http.Error(w, what+": "+err.Error(), code)
}
