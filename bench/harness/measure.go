package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"rudder/bench/iperf"
	"rudder/bench/report"
	"rudder/bench/sysinfo"
	"rudder/lab/netns"
)

// Ports the servers listen on inside their namespaces.
const (
	streamPort = 5201
	echoPort   = 7007
)

// endpoint is one path: where its clients run, where its servers listen
// and what the clients dial.
type endpoint struct {
	id, name, group, versus string
	client, server          *netns.NS
	addr                    string // the address clients dial
	// dialStream and dialEcho are the ports clients dial (NodePorts
	// differ from the ports the servers listen on).
	dialStream, dialEcho int
}

func (e endpoint) streamDialPort() int {
	if e.dialStream != 0 {
		return e.dialStream
	}
	return streamPort
}

func (e endpoint) echoTarget() string {
	p := e.dialEcho
	if p == 0 {
		p = echoPort
	}
	return net.JoinHostPort(e.addr, strconv.Itoa(p))
}

// measure runs a warm-up and then cfg.Runs runs of stream, RR and CRR on
// one path; the echo server must already run in e.server.
func (b *bench) measure(ctx context.Context, e endpoint) {
	p := report.Path{ID: e.id, Name: e.name, Group: e.group, Versus: e.versus}
	b.prog.Step("%s: warm-up", e.name)
	if _, _, err := b.stream(ctx, e, time.Second); err != nil {
		b.skip(e.name, fmt.Errorf("warm-up stream: %w", err))
		return
	}
	for run := 1; run <= b.cfg.Runs; run++ {
		b.prog.Step("%s: stream run %d/%d", e.name, run, b.cfg.Runs)
		gbps, cpuPerGB, err := b.stream(ctx, e, b.cfg.Stream)
		if err != nil {
			b.skip(e.name, fmt.Errorf("stream run %d: %w", run, err))
			return
		}
		p.Stream, p.CPUPerGB = append(p.Stream, gbps), append(p.CPUPerGB, cpuPerGB)
		for _, mode := range []string{"rr", "crr"} {
			b.prog.Step("%s: %s run %d/%d", e.name, strings.ToUpper(mode), run, b.cfg.Runs)
			r, err := b.latency(ctx, e.client, e.echoTarget(), mode, b.cfg.Latency)
			if err != nil {
				b.skip(e.name, fmt.Errorf("%s run %d: %w", mode, run, err))
				return
			}
			l := &p.RR
			if mode == "crr" {
				l = &p.CRR
			}
			l.P50, l.P90, l.P99 = append(l.P50, r.P50), append(l.P90, r.P90), append(l.P99, r.P99)
			l.Transactions = append(l.Transactions, r.Transactions)
		}
	}
	b.res.Paths = append(b.res.Paths, p)
	b.prog.Logf("%-34s %6.2f Gbit/s  CRR p50 %5.0f µs", e.name, p.Stream.Median(), p.CRR.P50.Median())
}

// stream runs one iperf3 TCP stream and returns Gbit/s and machine-wide
// CPU seconds per GB moved.
func (b *bench) stream(ctx context.Context, e endpoint, d time.Duration) (float64, float64, error) {
	before, err := sysinfo.CPUTime()
	if err != nil {
		return 0, 0, err
	}
	r, err := iperf.Stream(ctx, iperf.Config{Server: e.server, Client: e.client, ServerIP: e.addr,
		Port: streamPort, ClientPort: e.streamDialPort(), Duration: d, ServerCPU: b.serverCPU, ClientCPU: b.clientCPU})
	if err != nil {
		return 0, 0, err
	}
	after, err := sysinfo.CPUTime()
	if err != nil {
		return 0, 0, err
	}
	gb := r.Bytes / 1e9
	if gb <= 0 {
		return 0, 0, fmt.Errorf("no bytes moved")
	}
	return r.BitsPerSecond / 1e9, (after - before).Seconds() / gb, nil
}

// latencyResult is what `rudder bench-client` prints.
type latencyResult struct {
	Transactions int     `json:"transactions"`
	Errors       int     `json:"errors"`
	P50          float64 `json:"p50us"`
	P90          float64 `json:"p90us"`
	P99          float64 `json:"p99us"`
}

// latency runs the load generator inside ns, pinned to the client CPU.
func (b *bench) latency(ctx context.Context, ns *netns.NS, target, mode string, d time.Duration) (latencyResult, error) {
	ctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	args := append([]string{"--net=" + ns.Path, "--"}, pinned(b.clientCPU, b.cfg.RudderBin, "bench-client",
		"--target", target, "--mode", mode, "--duration", d.String())...)
	out, err := exec.CommandContext(ctx, "nsenter", args...).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return latencyResult{}, fmt.Errorf("bench-client %s %s: %w: %s", mode, target, err, ee.Stderr)
		}
		return latencyResult{}, fmt.Errorf("bench-client %s %s: %w", mode, target, err)
	}
	var r latencyResult
	if err := json.Unmarshal(out, &r); err != nil {
		return r, fmt.Errorf("bench-client output %q: %w", out, err)
	}
	if r.Transactions == 0 {
		return r, fmt.Errorf("bench-client %s %s: no transaction succeeded (%d errors)", mode, target, r.Errors)
	}
	return r, nil
}

// startEcho runs `rudder netexec` with its TCP echo in ns, pinned to the
// server CPU, until the returned stop is called.
func (b *bench) startEcho(ctx context.Context, ns *netns.NS) (stop func(), err error) {
	argv := pinned(b.serverCPU, b.cfg.RudderBin, "netexec", "--http-port=18080", "--udp-port=0", "--tcp-port="+strconv.Itoa(echoPort))
	cmd := ns.Command(argv[0], argv[1:]...)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start echo server in %s: %w", ns.Name, err)
	}
	stop = func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := ns.Run("sh", "-c", fmt.Sprintf("ss -Hltn 'sport = :%d' | grep -q LISTEN", echoPort)); err == nil {
			return stop, nil
		}
		select {
		case <-ctx.Done():
			stop()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	stop()
	return nil, fmt.Errorf("echo server in %s did not listen on %d: %s", ns.Name, echoPort, strings.TrimSpace(logs.String()))
}

// pinned is argv run on cpu (taskset), or as is when cpu < 0.
func pinned(cpu int, argv ...string) []string {
	if cpu < 0 {
		return argv
	}
	return append([]string{"taskset", "-c", strconv.Itoa(cpu)}, argv...)
}
