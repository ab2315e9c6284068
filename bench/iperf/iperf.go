// Package iperf runs iperf3 TCP stream tests between two network
// namespaces and reads its JSON report.
package iperf

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"time"

	"rudder/lab/netns"
)

// Config describes one stream test.
type Config struct {
	Server, Client *netns.NS
	ServerIP       string
	Port           int // the server listens here; default 5201
	// ClientPort is the port the client dials (a NodePort in front of
	// Port); default Port.
	ClientPort int
	Duration   time.Duration // default 5s
	// ServerCPU and ClientCPU pin the two ends (-A); negative: not pinned.
	ServerCPU, ClientCPU int
}

// Result is what one test measured.
type Result struct {
	BitsPerSecond    float64
	Retransmits      int
	HostCPUPercent   float64 // client side
	RemoteCPUPercent float64 // server side
	Seconds          float64
	Bytes            float64
}

type report struct {
	End struct {
		SumSent struct {
			Retransmits int `json:"retransmits"`
		} `json:"sum_sent"`
		SumReceived struct {
			Seconds       float64 `json:"seconds"`
			Bytes         float64 `json:"bytes"`
			BitsPerSecond float64 `json:"bits_per_second"`
		} `json:"sum_received"`
		CPU struct {
			HostTotal   float64 `json:"host_total"`
			RemoteTotal float64 `json:"remote_total"`
		} `json:"cpu_utilization_percent"`
	} `json:"end"`
	Error string `json:"error"`
}

// Stream runs one TCP stream test from Client to Server.
func Stream(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Port == 0 {
		cfg.Port = 5201
	}
	if cfg.Duration == 0 {
		cfg.Duration = 5 * time.Second
	}
	sargs := []string{"-s", "-1", "-p", strconv.Itoa(cfg.Port)}
	if cfg.ServerCPU >= 0 {
		sargs = append(sargs, "-A", strconv.Itoa(cfg.ServerCPU))
	}
	srv := cfg.Server.Command("iperf3", sargs...)
	if err := srv.Start(); err != nil {
		return Result{}, fmt.Errorf("start iperf3 server in %s: %w", cfg.Server.Name, err)
	}
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
	if err := waitListening(ctx, cfg); err != nil {
		return Result{}, err
	}
	if cfg.ClientPort == 0 {
		cfg.ClientPort = cfg.Port
	}
	cargs := []string{"-c", cfg.ServerIP, "-p", strconv.Itoa(cfg.ClientPort), "-J", "-t", strconv.Itoa(max(1, int(cfg.Duration.Seconds())))}
	if cfg.ClientCPU >= 0 {
		cargs = append(cargs, "-A", strconv.Itoa(cfg.ClientCPU))
	}
	out, err := cfg.Client.Command("iperf3", cargs...).Output()
	var rep report
	if jerr := json.Unmarshal(out, &rep); jerr != nil {
		return Result{}, fmt.Errorf("iperf3 client in %s: %v: %s", cfg.Client.Name, err, out)
	}
	if rep.Error != "" || err != nil {
		return Result{}, fmt.Errorf("iperf3 client in %s: %v %s", cfg.Client.Name, err, rep.Error)
	}
	e := rep.End
	return Result{BitsPerSecond: e.SumReceived.BitsPerSecond, Retransmits: e.SumSent.Retransmits,
		HostCPUPercent: e.CPU.HostTotal, RemoteCPUPercent: e.CPU.RemoteTotal,
		Seconds: e.SumReceived.Seconds, Bytes: e.SumReceived.Bytes}, nil
}

// waitListening polls until the server accepts on its port, from inside
// the client's namespace.
func waitListening(ctx context.Context, cfg Config) error {
	addr := net.JoinHostPort(cfg.ServerIP, strconv.Itoa(cfg.Port))
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := cfg.Server.Run("sh", "-c", fmt.Sprintf("ss -Hltn 'sport = :%d' | grep -q LISTEN", cfg.Port)); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return fmt.Errorf("iperf3 server at %s did not start listening", addr)
}
