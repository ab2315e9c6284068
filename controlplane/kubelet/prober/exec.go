package prober

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// maxExecOutput caps the command output kept as the probe's message.
const maxExecOutput = 10 << 10

func probeExec(ctx context.Context, e *corev1.ExecAction, t Target, timeout time.Duration) (Result, string) {
	if t.Exec == nil {
		return Unknown, "exec probe: no way to run commands in this container"
	}
	if len(e.Command) == 0 {
		return Unknown, "exec probe: empty command"
	}
	code, out, err := t.Exec(ctx, e.Command)
	if len(out) > maxExecOutput {
		out = out[:maxExecOutput]
	}
	switch {
	case err != nil && (isTimeout(err) || errors.Is(ctx.Err(), context.DeadlineExceeded)):
		return Failure, fmt.Sprintf("command %q timed out after %s", strings.Join(e.Command, " "), timeout)
	case err != nil:
		return Unknown, fmt.Sprintf("exec probe %q: %v", strings.Join(e.Command, " "), err)
	case ctx.Err() != nil:
		return Failure, fmt.Sprintf("command %q timed out after %s", strings.Join(e.Command, " "), timeout)
	case code != 0:
		return Failure, string(out)
	default:
		return Success, string(out)
	}
}
