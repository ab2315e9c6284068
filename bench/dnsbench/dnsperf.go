package dnsbench

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"rudder/bench/benchproc"
)

// PerfStats is what one dnsperf run reports.
type PerfStats struct {
	Sent       int            `json:"sent"`
	Completed  int            `json:"completed"`
	Lost       int            `json:"lost"`
	QPS        float64        `json:"qps"`
	AvgLatency float64        `json:"avg_latency_s"`
	MaxLatency float64        `json:"max_latency_s"`
	Rcodes     map[string]int `json:"rcodes"`
}

// perfRun is one dnsperf invocation.
type perfRun struct {
	port        int
	mix         string
	duration    time.Duration
	clients     int
	outstanding int
	threads     int
	cpus        string // taskset -c; empty: unpinned
}

func (p perfRun) argv() []string {
	a := []string{"dnsperf", "-s", "127.0.0.1", "-p", strconv.Itoa(p.port), "-d", p.mix,
		"-l", strconv.FormatFloat(p.duration.Seconds(), 'f', -1, 64),
		"-c", strconv.Itoa(p.clients), "-q", strconv.Itoa(p.outstanding), "-T", strconv.Itoa(p.threads), "-t", "2"}
	if p.cpus != "" {
		a = append([]string{"taskset", "-c", p.cpus}, a...)
	}
	return a
}

// run executes dnsperf and parses its statistics.
func (p perfRun) run(ctx context.Context) (PerfStats, error) {
	argv := p.argv()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		return PerfStats{}, fmt.Errorf("run %s: %w: %s", strings.Join(argv, " "), err, benchproc.LastLines(out.String(), 10))
	}
	return ParsePerf(out.String())
}

// ParsePerf reads the statistics block dnsperf prints at the end.
func ParsePerf(text string) (PerfStats, error) {
	st := PerfStats{Rcodes: map[string]int{}}
	seen := 0
	for _, line := range strings.Split(text, "\n") {
		key, val, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		f := strings.Fields(val)
		if len(f) == 0 {
			continue
		}
		var err error
		switch key {
		case "Queries sent":
			st.Sent, err = strconv.Atoi(f[0])
		case "Queries completed":
			st.Completed, err = strconv.Atoi(f[0])
			seen++
		case "Queries lost":
			st.Lost, err = strconv.Atoi(f[0])
		case "Queries per second":
			st.QPS, err = strconv.ParseFloat(f[0], 64)
			seen++
		case "Average Latency (s)":
			st.AvgLatency, err = strconv.ParseFloat(f[0], 64)
			if i := strings.Index(val, "max "); i >= 0 {
				st.MaxLatency, _ = strconv.ParseFloat(strings.TrimRight(strings.Fields(val[i+4:])[0], ")"), 64)
			}
		case "Response codes":
			for i := 0; i+1 < len(f); i += 3 {
				n, _ := strconv.Atoi(f[i+1])
				st.Rcodes[f[i]] = n
			}
		}
		if err != nil {
			return st, fmt.Errorf("parse dnsperf line %q: %w", line, err)
		}
	}
	if seen < 2 {
		return st, fmt.Errorf("dnsperf output has no statistics: %s", benchproc.LastLines(text, 10))
	}
	return st, nil
}
