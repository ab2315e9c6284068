package ingressbench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"rudder/bench/benchcluster"
	"rudder/bench/benchout"
	"rudder/bench/benchproc"
	"rudder/bench/progress"
	"rudder/bench/sysinfo"
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
	if l, err := strconv.ParseFloat(sysinfo.LoadAvg(), 64); err == nil && l > 1 {
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
	b.ps = &benchproc.Group{}
	defer b.ps.StopAll()

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
	res.LoadEnd = sysinfo.LoadAvg()
	if err := benchout.Files(cfg.Out, "ingress.json", "INGRESS.md", res); err != nil {
		return nil, err
	}
	return res, nil
}

// bench is the state of one Run.
type bench struct {
	cfg                       Config
	pr                        *progress.Line
	ps                        *benchproc.Group
	tmp, logDir               string
	nginxBin, wrkBin          string
	kubeconfig                string
	backends                  []*backend
	directScript, proxyScript string
	cert                      benchCert
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
	if usesRudder(b.cfg.Paths) {
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
	if b.cert, err = newBenchCert(filepath.Join(b.tmp, "pki")); err != nil {
		return err
	}
	if !usesRudder(b.cfg.Paths) {
		return nil
	}
	b.pr.Step("starting rudder server")
	cl, err := benchcluster.Start(ctx, b.ps, benchcluster.Config{RudderBin: b.cfg.RudderBin, Dir: b.tmp, LogDir: b.logDir})
	if err != nil {
		return err
	}
	b.kubeconfig = cl.Kubeconfig
	b.pr.Step("creating the Ingress, Service and EndpointSlices")
	return createObjects(ctx, cl.Client, b.backends, b.cert)
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
		Paths: b.cfg.Paths, IngressArgs: b.cfg.IngressArgs, LoadStart: sysinfo.LoadAvg(),
		NginxKeepalive: nginxKeepalive(len(b.backends)),
		Versions:       map[string]string{"rudder": benchcluster.RudderVersion(b.cfg.RudderBin), "wrk": firstLine(b.wrkBin, "-v")},
	}
	if b.nginxBin != "" {
		r.Versions["nginx"] = firstLine(b.nginxBin, "-v")
	}
	return r
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
