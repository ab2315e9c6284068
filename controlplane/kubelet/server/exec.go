package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cri-streaming/pkg/streaming/remotecommand"
	"k8s.io/streaming/pkg/httpstream/wsstream"
	utilexec "k8s.io/utils/exec"
)

// v5Protocol is the WebSocket remote command protocol with a CLOSE
// signal for stdin; upstream's kubelet leaves it to the apiserver, which
// translates it to SPDY, so this server speaks it itself.
const v5Protocol = "v5.channel.k8s.io"

// Channel numbers of the remote command protocols.
const (
	chanStdin = iota
	chanStdout
	chanStderr
	chanError
	chanResize
)

// parseExecQuery reads the command and the streams asked for. It accepts
// both the apiserver's parameters (stdin, stdout, stderr, tty: booleans)
// and upstream kubelet's (input, output, error, tty: "1").
func parseExecQuery(v url.Values) ([]string, remotecommand.Options, error) {
	var o remotecommand.Options
	cmd := v["command"]
	if len(cmd) == 0 || cmd[0] == "" {
		return nil, o, errors.New("a command is required (command=…)")
	}
	flags := []struct {
		dst         *bool
		name, alias string
	}{
		{&o.Stdin, "stdin", remotecommand.ExecStdinParam},
		{&o.Stdout, "stdout", remotecommand.ExecStdoutParam},
		{&o.Stderr, "stderr", remotecommand.ExecStderrParam},
		{&o.TTY, "tty", ""},
	}
	for _, f := range flags {
		b, err := boolParam(v, f.name)
		if err != nil {
			return nil, o, err
		}
		if f.alias != "" && v.Get(f.alias) != "" {
			a, err := boolParam(v, f.alias)
			if err != nil {
				return nil, o, err
			}
			b = b || a
		}
		*f.dst = b
	}
	if o.TTY && o.Stderr {
		o.Stderr = false // with a TTY, stderr is merged into stdout
	}
	if !o.Stdin && !o.Stdout && !o.Stderr {
		return nil, o, errors.New("at least one of stdin, stdout or stderr must be set")
	}
	return cmd, o, nil
}

// serveExec serves /exec/{namespace}/{pod}/{container}: WebSocket v5
// here, SPDY and older WebSocket protocols through cri-streaming.
func (s *Server) serveExec(w http.ResponseWriter, r *http.Request) {
	ns, pod, container := r.PathValue("namespace"), r.PathValue("pod"), r.PathValue("container")
	cmd, opts, err := parseExecQuery(r.URL.Query())
	if err != nil {
		http.Error(w, "bad exec options: "+err.Error(), http.StatusBadRequest)
		return
	}
	if err := s.cfg.Provider.Lookup(ns, pod, container); err != nil {
		s.writeProviderError(w, r, "exec", err)
		return
	}
	ex := executor{p: s.cfg.Provider, namespace: ns, pod: pod}
	if wsstream.IsWebSocketRequestWithStreamCloseProtocol(r) {
		s.serveExecV5(w, r, ex, container, cmd, opts)
		return
	}
	remotecommand.ServeExec(w, r, ex, pod, "", container, cmd, &opts,
		s.cfg.StreamIdleTimeout, s.cfg.StreamCreationTimeout, remotecommand.SupportedStreamingProtocols)
}

// executor adapts the Provider to cri-streaming's Executor.
type executor struct {
	p              Provider
	namespace, pod string
}

// ExecInContainer implements remotecommand.Executor. The library
// recognises an exit code only in an error that is an ExitError itself,
// so a wrapped one is unwrapped.
func (e executor) ExecInContainer(ctx context.Context, _, _ string, container string, cmd []string, in io.Reader, out, errw io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize, _ time.Duration) error {
	err := e.p.Exec(ctx, e.namespace, e.pod, container, cmd, in, out, errw, tty, relayResize(ctx, resize))
	var exitErr utilexec.ExitError
	if errors.As(err, &exitErr) {
		return exitErr
	}
	return err
}

// relayResize converts the library's resize events to TermSize.
func relayResize(ctx context.Context, src <-chan remotecommand.TerminalSize) <-chan TermSize {
	if src == nil {
		return nil
	}
	dst := make(chan TermSize)
	go func() {
		defer close(dst)
		for sz := range src {
			select {
			case dst <- TermSize{Width: sz.Width, Height: sz.Height}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return dst
}

// serveExecV5 runs an exec over WebSocket v5.channel.k8s.io: channels
// 0-2 are stdin, stdout and stderr, 3 carries the final status, 4 the
// terminal size, and 255 the client's "close stdin" signal (handled by
// wsstream).
func (s *Server) serveExecV5(w http.ResponseWriter, r *http.Request, ex executor, container string, cmd []string, opts remotecommand.Options) {
	chans := []wsstream.ChannelType{
		chanStdin:  channel(opts.Stdin, wsstream.ReadChannel),
		chanStdout: channel(opts.Stdout, wsstream.WriteChannel),
		chanStderr: channel(opts.Stderr, wsstream.WriteChannel),
		chanError:  wsstream.WriteChannel,
		chanResize: channel(opts.TTY, wsstream.ReadChannel),
	}
	conn := wsstream.NewConn(map[string]wsstream.ChannelProtocolConfig{
		v5Protocol: {Binary: true, Channels: chans},
	})
	conn.SetIdleTimeout(s.cfg.StreamIdleTimeout)
	_, streams, err := conn.Open(w, r)
	if err != nil {
		s.log.Info("kubelet server: websocket exec upgrade failed", "path", r.URL.Path, "err", err)
		return
	}
	defer conn.Close()
	var (
		in        io.Reader
		out, errw io.WriteCloser
		resize    <-chan TermSize
	)
	if opts.Stdin {
		in = streams[chanStdin]
	}
	if opts.Stdout {
		out = streams[chanStdout]
	}
	if opts.Stderr {
		errw = streams[chanStderr]
	}
	if opts.TTY {
		resize = decodeResize(r.Context(), streams[chanResize])
	}
	// An empty message tells the client that the streams are ready.
	_, _ = streams[firstWritable(opts)].Write(nil)
	err = ex.p.Exec(r.Context(), ex.namespace, ex.pod, container, cmd, in, out, errw, opts.TTY, resize)
	status, _ := json.Marshal(execStatus(err))
	if _, werr := streams[chanError].Write(status); werr != nil {
		s.log.Debug("kubelet server: write exec status", "err", werr)
	}
}

func channel(on bool, t wsstream.ChannelType) wsstream.ChannelType {
	if on {
		return t
	}
	return wsstream.IgnoreChannel
}

func firstWritable(o remotecommand.Options) int {
	switch {
	case o.Stdout:
		return chanStdout
	case o.Stderr:
		return chanStderr
	}
	return chanError
}

// decodeResize reads JSON terminal sizes ({"Width":…,"Height":…}) until
// the stream ends.
func decodeResize(ctx context.Context, r io.Reader) <-chan TermSize {
	ch := make(chan TermSize)
	go func() {
		defer close(ch)
		dec := json.NewDecoder(r)
		for {
			var sz TermSize
			if err := dec.Decode(&sz); err != nil {
				return
			}
			select {
			case ch <- sz:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch
}

// execStatus is the final status of an exec, in the v4/v5 form client-go
// decodes: Success, a NonZeroExitCode failure carrying the code, or an
// internal error.
func execStatus(err error) metav1.Status {
	if err == nil {
		return metav1.Status{Status: metav1.StatusSuccess}
	}
	var exitErr utilexec.ExitError
	if errors.As(err, &exitErr) && exitErr.Exited() {
		return metav1.Status{
			Status:  metav1.StatusFailure,
			Reason:  remotecommand.NonZeroExitCodeReason,
			Message: fmt.Sprintf("command terminated with non-zero exit code: %v", err),
			Details: &metav1.StatusDetails{Causes: []metav1.StatusCause{{
				Type:    remotecommand.ExitCodeCauseType,
				Message: strconv.Itoa(exitErr.ExitStatus()),
			}}},
		}
	}
	return apierrors.NewInternalError(fmt.Errorf("error executing command in container: %w", err)).Status()
}
