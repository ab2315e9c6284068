package ingressbench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"rudder/bench/progress"
)

// backendCount is the number of netexec backends.
const backendCount = 2

// Run measures the paths of cfg and writes ingress.json and INGRESS.md
// (the REPORT.md section) to cfg.Out, the logs under cfg.Out/ingress.
// Every process it starts is stopped before it returns, also when ctx is
// cancelled.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	b := &bench{cfg: cfg}
	if err := b.findTools(); err != nil {
		return nil, err
	}
	b.pr = progress.New(cfg.Progress, cfg.TTY, "ingress", "[ingress] ")
	defer b.pr.Done()
	if l, err := strconv.ParseFloat(loadAvg(), 64); err == nil && l > 1 {
		b.pr.Logf("load average %.2f before the start: other work is running, the numbers will be noisy", l)
	}
	b.logDir = filepath.Join(cfg.Out, "ingress")
	if err := os.MkdirAll(b.logDir, 0o755); err != nil {
		return nil, fmt.Errorf("create output dir: %w", err)
	}
	tmp, err := os.MkdirTemp("", "rudder-ingressbench-")
	if err != nil {
		return nil, fmt.Errorf("create temp dir: %w", err)
	}
	defer os.RemoveAll(tmp)
	b.tmp = tmp
	b.ps = &procs{}
	defer b.ps.stopAll()

	if err := b.setup(ctx); err != nil {
		return nil, err
	}
	res := b.newResult()
	for _, mode := range cfg.Modes {
		m, err := b.measureMode(ctx, mode)
		if err != nil {
			return nil, fmt.Errorf("%s runs: %w", mode, err)
		}
		res.Modes = append(res.Modes, m)
	}
	res.LoadEnd = loadAvg()
	if err := b.write(res); err != nil {
		return nil, err
	}
	return res, nil
}

// bench is the state of one Run.
type bench struct {
	cfg                       Config
	pr                        *progress.Line
	ps                        *procs
	tmp, logDir               string
	nginxBin, wrkBin          string
	kubeconfig                string
	backends                  []*backend
	directScript, proxyScript string
}

// findTools fails early, with the fix, when a program the run needs is
// missing.
func (b *bench) findTools() error {
	var err error
	if b.wrkBin, err = findTool(b.cfg.WrkBin, "wrk"); err != nil {
		return fmt.Errorf("ingressbench needs wrk (apt-get install wrk): %w", err)
	}
	if b.cfg.usesNginx() {
		if b.nginxBin, err = findTool(b.cfg.NginxBin, "/usr/sbin/nginx", "nginx"); err != nil {
			return fmt.Errorf("ingressbench needs nginx (apt-get install nginx): %w", err)
		}
	}
	if slices.Contains(b.cfg.Modes, ModePinned) {
		if _, err := exec.LookPath("taskset"); err != nil {
			return fmt.Errorf("ingressbench needs taskset (util-linux) for the pinned mode: %w", err)
		}
	}
	if slices.Contains(b.cfg.Paths, PathRudder) {
		return hasIngressCommand(b.cfg.RudderBin)
	}
	return nil
}

// setup starts the backends, and when rudder is measured the apiserver
// with the objects routing Host to them; it writes the wrk scripts.
func (b *bench) setup(ctx context.Context) error {
	b.pr.Step("starting %d netexec backends", backendCount)
	var err error
	if b.backends, err = startBackends(ctx, b.ps, b.cfg.RudderBin, b.logDir, backendCount); err != nil {
		return err
	}
	if b.directScript, b.proxyScript, err = writeScripts(b.tmp, b.backendAddrs()); err != nil {
		return err
	}
	if !slices.Contains(b.cfg.Paths, PathRudder) {
		return nil
	}
	b.pr.Step("starting rudder server")
	if b.kubeconfig, err = startAPIServer(ctx, b.ps, b.cfg.RudderBin, b.tmp, b.logDir); err != nil {
		return err
	}
	cs, err := clientFor(b.kubeconfig)
	if err != nil {
		return err
	}
	b.pr.Step("creating the Ingress, Service and EndpointSlices")
	return createObjects(ctx, cs, b.backends)
}

func (b *bench) backendAddrs() []string {
	out := make([]string, len(b.backends))
	for i, be := range b.backends {
		out[i] = be.addr()
	}
	return out
}

func (b *bench) newResult() *Result {
	r := &Result{
		Date: time.Now().UTC().Format(time.RFC3339), CPUs: runtime.NumCPU(), Duration: b.cfg.Duration.String(),
		Runs: b.cfg.Runs, Threads: b.cfg.Threads, BodyBytes: b.cfg.BodyBytes, Connections: b.cfg.Connections,
		Paths: b.cfg.Paths, IngressArgs: b.cfg.IngressArgs, LoadStart: loadAvg(),
		Versions: map[string]string{"rudder": rudderVersion(b.cfg.RudderBin), "wrk": firstLine(b.wrkBin, "-v")},
	}
	if b.nginxBin != "" {
		r.Versions["nginx"] = firstLine(b.nginxBin, "-v")
	}
	return r
}

func (b *bench) write(res *Result) error {
	if err := res.WriteJSON(filepath.Join(b.cfg.Out, "ingress.json")); err != nil {
		return err
	}
	path := filepath.Join(b.cfg.Out, "INGRESS.md")
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := res.WriteMarkdown(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	return nil
}

// rudderVersion reads `rudder version` (JSON), for the report.
func rudderVersion(bin string) string {
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

// firstLine is the first line of `bin args...` (stdout and stderr; wrk
// -v exits 1), for the report.
func firstLine(bin string, args ...string) string {
	out, _ := exec.Command(bin, args...).CombinedOutput()
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	if line == "" {
		return "unknown"
	}
	return strings.TrimSpace(line)
}
