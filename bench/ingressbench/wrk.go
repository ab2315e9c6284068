package ingressbench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"rudder/bench/benchproc"
)

// wrkMarker starts the line of JSON the done function of wrkScript prints.
const wrkMarker = "INGRESSBENCH "

// wrkScript is wrk's Lua script: setup spreads the threads over addrs
// (the direct path: thread i goes to backend i mod n; wrk resolves one
// address otherwise), done prints the summary and latency percentiles
// (microseconds) as one line of JSON.
func wrkScript(addrs []string) string {
	var b strings.Builder
	b.WriteString("local addrs = {")
	for i, a := range addrs {
		host, port, _ := strings.Cut(a, ":")
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "{%q, %q}", host, port)
	}
	b.WriteString("}\n")
	b.WriteString(`local n = 0
function setup(thread)
  if #addrs > 0 then
    local a = addrs[(n % #addrs) + 1]
    thread.addr = wrk.lookup(a[1], a[2])[1]
  end
  n = n + 1
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('` + wrkMarker + `{"requests":%.0f,"duration_us":%.0f,"bytes":%.0f,' ..
    '"connect_errors":%.0f,"read_errors":%.0f,"write_errors":%.0f,"status_errors":%.0f,"timeouts":%.0f,' ..
    '"p50_us":%.1f,"p90_us":%.1f,"p99_us":%.1f,"p999_us":%.1f,"mean_us":%.1f,"max_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.mean, latency.max))
end
`)
	return b.String()
}

// WrkStats is one wrk run as its done function reports it.
type WrkStats struct {
	Requests      float64 `json:"requests"`
	DurationUs    float64 `json:"duration_us"`
	Bytes         float64 `json:"bytes"`
	ConnectErrors float64 `json:"connect_errors"`
	ReadErrors    float64 `json:"read_errors"`
	WriteErrors   float64 `json:"write_errors"`
	// StatusErrors are responses outside 200-399.
	StatusErrors float64 `json:"status_errors"`
	Timeouts     float64 `json:"timeouts"`
	P50Us        float64 `json:"p50_us"`
	P90Us        float64 `json:"p90_us"`
	P99Us        float64 `json:"p99_us"`
	P999Us       float64 `json:"p999_us"`
	MeanUs       float64 `json:"mean_us"`
	MaxUs        float64 `json:"max_us"`
	// CPU is the CPU time wrk itself used (user and system).
	CPU time.Duration `json:"-"`
}

// RPS is requests per second.
func (s WrkStats) RPS() float64 {
	if s.DurationUs <= 0 {
		return 0
	}
	return s.Requests / (s.DurationUs / 1e6)
}

// Errors counts failed requests of every kind.
func (s WrkStats) Errors() int {
	return int(s.ConnectErrors + s.ReadErrors + s.WriteErrors + s.StatusErrors + s.Timeouts)
}

// ParseWrk finds the line of the done function in wrk's output.
func ParseWrk(out string) (WrkStats, error) {
	for _, line := range strings.Split(out, "\n") {
		_, js, ok := strings.Cut(line, wrkMarker)
		if !ok {
			continue
		}
		var s WrkStats
		if err := json.Unmarshal([]byte(strings.TrimSpace(js)), &s); err != nil {
			return WrkStats{}, fmt.Errorf("parse wrk summary %q: %w", js, err)
		}
		if s.DurationUs <= 0 {
			return WrkStats{}, fmt.Errorf("wrk summary without a duration: %q", js)
		}
		return s, nil
	}
	return WrkStats{}, fmt.Errorf("no %q line in wrk's output:\n%s", strings.TrimSpace(wrkMarker), benchproc.LastLines(out, 10))
}

// wrkRun is one wrk invocation.
type wrkRun struct {
	bin         string
	url         string
	script      string // path of the Lua script
	threads     int
	connections int
	duration    time.Duration
	cpus        string // taskset -c; empty: unpinned
}

func (w wrkRun) argv() []string {
	secs := max(1, int((w.duration+time.Second/2)/time.Second))
	argv := []string{w.bin, "-t", strconv.Itoa(w.threads), "-c", strconv.Itoa(w.connections),
		"-d", strconv.Itoa(secs) + "s", "--timeout", "5s", "-H", "Host: " + Host, "-s", w.script, w.url}
	if w.cpus != "" {
		argv = append([]string{"taskset", "-c", w.cpus}, argv...)
	}
	return argv
}

// run runs wrk and parses its summary.
func (w wrkRun) run(ctx context.Context) (WrkStats, error) {
	argv := w.argv()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return WrkStats{}, fmt.Errorf("wrk interrupted: %w", ctx.Err())
		}
		return WrkStats{}, fmt.Errorf("wrk %s: %w: %s", strings.Join(argv[1:], " "), err, benchproc.LastLines(out.String(), 10))
	}
	st, err := ParseWrk(out.String())
	if err != nil {
		return st, err
	}
	st.CPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return st, nil
}

// writeScripts writes the Lua scripts of the paths: one spreading threads
// over the backends, one leaving wrk's single address.
func writeScripts(dir string, backends []string) (direct, proxy string, err error) {
	direct, proxy = filepath.Join(dir, "direct.lua"), filepath.Join(dir, "proxy.lua")
	if err := os.WriteFile(direct, []byte(wrkScript(backends)), 0o644); err != nil {
		return "", "", fmt.Errorf("write wrk script: %w", err)
	}
	if err := os.WriteFile(proxy, []byte(wrkScript(nil)), 0o644); err != nil {
		return "", "", fmt.Errorf("write wrk script: %w", err)
	}
	return direct, proxy, nil
}
