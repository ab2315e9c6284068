// Package prober runs a container's liveness, readiness and startup
// probes the way the upstream kubelet does: one probe (Prober.Probe) is a
// single httpGet, tcpSocket, exec or grpc check bounded by the probe's
// timeout; a Manager runs one worker per (pod, container, probe kind) that
// applies initialDelaySeconds, periodSeconds, the success and failure
// thresholds and startup gating, and reports changed results.
package prober

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"rudder/internal/buildinfo"
)

// Result is the outcome of one probe.
type Result int

const (
	// Unknown means the probe could not be run (bad spec, internal
	// error); workers throw such results away, as upstream does.
	Unknown Result = iota
	// Success means the check passed.
	Success
	// Warning means the check passed with a remark (an HTTP redirect that
	// was not followed); it counts as Success.
	Warning
	// Failure means the check failed.
	Failure
)

func (r Result) String() string {
	switch r {
	case Success:
		return "success"
	case Warning:
		return "warning"
	case Failure:
		return "failure"
	default:
		return "unknown"
	}
}

// Target is what a probe checks: the pod's IP, the container (for named
// ports) and a way to run a command inside it.
type Target struct {
	PodIP     string
	Container *corev1.Container
	// Exec runs cmd in the container. A non-nil error means the command
	// could not be run at all; a context error means it timed out.
	Exec func(ctx context.Context, cmd []string) (exitCode int, output []byte, err error)
}

// DefaultTimeout is a probe's timeout when timeoutSeconds is unset.
const DefaultTimeout = time.Second

// Config configures a Prober. The zero value is usable.
type Config struct {
	// UserAgent is sent by HTTP and gRPC probes unless the probe sets one;
	// default "kube-probe/<major>.<minor>" of the reported Kubernetes API.
	UserAgent string
}

// Prober runs single probes. It is safe for concurrent use.
type Prober struct {
	userAgent string
	http      *httpProber
}

// New returns a Prober.
func New(cfg Config) *Prober {
	ua := cfg.UserAgent
	if ua == "" {
		v := buildinfo.Version()
		ua = "kube-probe/" + v.Major + "." + v.Minor
	}
	return &Prober{userAgent: ua, http: newHTTPProber(ua)}
}

// Probe runs p once against t and returns its result and a message
// (response body, command output or the reason of a failure). The probe's
// timeoutSeconds (default 1 s) bounds the whole check.
func (pr *Prober) Probe(ctx context.Context, p *corev1.Probe, t Target) (Result, string) {
	if p == nil {
		return Unknown, "no probe given"
	}
	timeout := Timeout(p)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	h := p.ProbeHandler
	switch {
	case h.HTTPGet != nil:
		return pr.probeHTTP(ctx, h.HTTPGet, t, timeout)
	case h.TCPSocket != nil:
		return probeTCP(ctx, h.TCPSocket, t, timeout)
	case h.Exec != nil:
		return probeExec(ctx, h.Exec, t, timeout)
	case h.GRPC != nil:
		return pr.probeGRPC(ctx, h.GRPC, t, timeout)
	default:
		return Unknown, "probe has no handler (httpGet, tcpSocket, exec or grpc)"
	}
}

// Timeout returns the probe's timeoutSeconds, or DefaultTimeout.
func Timeout(p *corev1.Probe) time.Duration {
	if p == nil || p.TimeoutSeconds <= 0 {
		return DefaultTimeout
	}
	return time.Duration(p.TimeoutSeconds) * time.Second
}

// ResolvePort returns the port number a probe names: a number, or the
// name of one of the container's ports (or a number in a string).
func ResolvePort(port intstr.IntOrString, c *corev1.Container) (int, error) {
	n := -1
	switch port.Type {
	case intstr.Int:
		n = port.IntValue()
	case intstr.String:
		if c != nil {
			for _, cp := range c.Ports {
				if cp.Name == port.StrVal {
					n = int(cp.ContainerPort)
					break
				}
			}
		}
		if n < 0 {
			v, err := strconv.Atoi(port.StrVal)
			if err != nil {
				return 0, fmt.Errorf("couldn't find port %q in container's ports", port.StrVal)
			}
			n = v
		}
	}
	if n <= 0 || n > 65535 {
		return 0, fmt.Errorf("invalid port number: %d", n)
	}
	return n, nil
}

// hostPort joins the probe's host (default the pod IP) and port.
func hostPort(host, podIP string, port intstr.IntOrString, c *corev1.Container) (string, error) {
	if host == "" {
		host = podIP
	}
	if host == "" {
		return "", fmt.Errorf("no host given and the pod has no IP")
	}
	n, err := ResolvePort(port, c)
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(host, strconv.Itoa(n)), nil
}
