// Package benchcluster runs the control plane a benchmark needs: one
// `rudder server` on loopback, with its admin kubeconfig and a client.
package benchcluster

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"rudder/bench/benchproc"
)

// readyTimeout is how long the server may take to answer.
const readyTimeout = 60 * time.Second

// Config says how to run the server.
type Config struct {
	// RudderBin is the rudder binary under test.
	RudderBin string
	// Dir holds the server's data (Dir/server) and the kubeconfig it
	// writes (Dir/admin.kubeconfig).
	Dir string
	// LogDir receives apiserver.log.
	LogDir string
}

// Cluster is a running `rudder server`.
type Cluster struct {
	// Kubeconfig is the path of its admin kubeconfig.
	Kubeconfig string
	// Client talks to it with that kubeconfig, without client-side rate
	// limits (the benchmarks create thousands of objects).
	Client *kubernetes.Clientset
	// Proc is the server process, stopped with the rest of its group.
	Proc *benchproc.Proc
}

// Start runs `rudder server` on a free loopback port in g (the scheduler
// off, no leader election) and waits until it answers.
func Start(ctx context.Context, g *benchproc.Group, cfg Config) (*Cluster, error) {
	if cfg.RudderBin == "" || cfg.Dir == "" || cfg.LogDir == "" {
		return nil, fmt.Errorf("start rudder server: RudderBin, Dir and LogDir must be set")
	}
	port, err := benchproc.FreeTCPPort()
	if err != nil {
		return nil, err
	}
	kc := filepath.Join(cfg.Dir, "admin.kubeconfig")
	log := filepath.Join(cfg.LogDir, "apiserver.log")
	p, err := g.Start("rudder server", log, "", nil, cfg.RudderBin, "server",
		"--data-dir", filepath.Join(cfg.Dir, "server"), "--secure-port", strconv.Itoa(port),
		"--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--write-kubeconfig", kc,
		"--log-level", "warn", "--leader-elect=false", "--controllers=*,-scheduler")
	if err != nil {
		return nil, err
	}
	var cs *kubernetes.Clientset
	err = p.Poll(ctx, readyTimeout, func() bool {
		c, err := clientFor(kc)
		if err != nil {
			return false
		}
		if _, err := c.Discovery().ServerVersion(); err != nil {
			return false
		}
		cs = c
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("wait for rudder server: %w (log %s)", err, log)
	}
	return &Cluster{Kubeconfig: kc, Client: cs, Proc: p}, nil
}

func clientFor(kubeconfig string) (*kubernetes.Clientset, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig %s: %w", kubeconfig, err)
	}
	cfg.QPS, cfg.Burst = 100000, 100000
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("client for %s: %w", kubeconfig, err)
	}
	return cs, nil
}

// RudderVersion reads `rudder version` (JSON) of bin, for a report:
// "rudder GITVERSION (GOVERSION)", or "unknown".
func RudderVersion(bin string) string {
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		return "unknown"
	}
	var v struct{ GitVersion, GoVersion string }
	if err := json.Unmarshal(out, &v); err != nil || v.GitVersion == "" {
		return "unknown"
	}
	return "rudder " + v.GitVersion + " (" + v.GoVersion + ")"
}
