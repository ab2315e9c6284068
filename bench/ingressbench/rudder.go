package ingressbench

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"rudder/bench/benchproc"
)

// rudderIngress is a running `rudder ingress`.
type rudderIngress struct {
	proc          *benchproc.Proc
	port, tlsPort int
}

// startRudderIngress runs `rudder ingress` on free loopback ports (the flag
// contract of cmd/rudder/ingress.go), pinned to cpus with GOMAXPROCS
// procs when set, and waits until /healthz answers 200 and a request for
// Host reaches a backend through it.
func startRudderIngress(ctx context.Context, ps *benchproc.Group, bin, kubeconfig, dir, cpus string, gomaxprocs int, extra []string) (*rudderIngress, error) {
	var ports [3]int
	for i := range ports {
		p, err := benchproc.FreeTCPPort()
		if err != nil {
			return nil, err
		}
		ports[i] = p
	}
	addr := func(p int) string { return "127.0.0.1:" + strconv.Itoa(p) }
	args := append([]string{bin, "ingress", "--kubeconfig", kubeconfig,
		"--http-addr", addr(ports[0]), "--https-addr", addr(ports[1]), "--metrics-addr", addr(ports[2]),
		"--publish-address", "127.0.0.1", "--log-level", "warn",
		"--default-ssl-certificate", namespace + "/" + secretName}, extra...)
	var env []string
	if gomaxprocs > 0 {
		env = append(env, "GOMAXPROCS="+strconv.Itoa(gomaxprocs))
	}
	p, err := ps.Start("rudder ingress", filepath.Join(dir, "rudder-ingress.log"), cpus, env, args...)
	if err != nil {
		return nil, err
	}
	r := &rudderIngress{proc: p, port: ports[0], tlsPort: ports[1]}
	healthz, probe := "http://"+addr(ports[2])+"/healthz", "http://"+addr(ports[0])+"/healthz"
	if err := p.Poll(ctx, 60*time.Second, func() bool { return httpOK(healthz, "") && httpOK(probe, Host) }); err != nil {
		return r, fmt.Errorf("wait for rudder ingress (%s 200, then Host %s routed): %w; log:\n%s", healthz, Host, err, benchproc.Tail(p.Log(), 20))
	}
	return r, nil
}

// hasIngressCommand says whether bin has the `ingress` command, so that a
// binary from before it fails with a clear message.
func hasIngressCommand(bin string) error {
	out, err := exec.Command(bin, "ingress", "--help").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--http-addr") {
		return fmt.Errorf("%s has no `ingress` command (measure --paths direct,nginx or build a newer rudder): %v %s", bin, err, benchproc.LastLines(string(out), 3))
	}
	return nil
}
