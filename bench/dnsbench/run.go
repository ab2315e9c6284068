package dnsbench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"time"

	"rudder/bench/benchcluster"
	"rudder/bench/benchout"
	"rudder/bench/benchproc"
	"rudder/bench/progress"
	"rudder/bench/sysinfo"
)

// mixSeed fixes the query mix across runs and machines.
const mixSeed = 8

// Run measures the servers of cfg and writes dns.json and DNS.md (the
// REPORT.md section) to cfg.Out. Every process it starts is stopped before
// it returns, also when ctx is cancelled.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := checkTools(cfg); err != nil {
		return nil, err
	}
	pr := progress.New(cfg.Progress, cfg.TTY, "dns", "[dns] ")
	defer pr.Done()
	if l, err := strconv.ParseFloat(sysinfo.LoadAvg(), 64); err == nil && l > 1 {
		pr.Logf("load average %.2f before the start: other work is running, the numbers will be noisy", l)
	}
	logDir := filepath.Join(cfg.Out, "dns")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, fmt.Errorf("create output dir: %w", err)
	}
	tmp, err := os.MkdirTemp("", "rudder-dnsbench-")
	if err != nil {
		return nil, fmt.Errorf("create temp dir: %w", err)
	}
	defer os.RemoveAll(tmp)
	ps := &benchproc.Group{}
	defer ps.StopAll()

	b := &bench{cfg: cfg, pr: pr, ps: ps, tmp: tmp, logDir: logDir}
	if err := b.setup(ctx); err != nil {
		return nil, err
	}
	defer b.stub.close()
	res := b.newResult()
	res.LoadStart = sysinfo.LoadAvg()
	for _, mode := range cfg.Modes {
		m, err := b.measureMode(ctx, mode)
		if err != nil {
			return nil, fmt.Errorf("%s runs: %w", mode, err)
		}
		res.Modes = append(res.Modes, m)
	}
	res.StubQueries = b.stub.queries.Load()
	res.LoadEnd = sysinfo.LoadAvg()
	res.Compared = b.compared
	if err := benchout.Files(cfg.Out, "dns.json", "DNS.md", res); err != nil {
		return nil, err
	}
	return res, nil
}

// checkTools fails early, with the fix, when a program the run needs is missing.
func checkTools(cfg Config) error {
	need := []string{"dnsperf"}
	if slices.Contains(cfg.Modes, ModePinned) {
		need = append(need, "taskset")
	}
	for _, n := range need {
		if _, err := exec.LookPath(n); err != nil {
			return fmt.Errorf("dnsbench needs %s on PATH (dnsperf: apt-get install dnsperf; taskset: util-linux): %w", n, err)
		}
	}
	return nil
}

// bench is the state of one Run.
type bench struct {
	cfg        Config
	pr         *progress.Line
	ps         *benchproc.Group
	tmp        string
	logDir     string
	kubeconfig string
	stub       *stubUpstream
	mixFile    string
	mix        []Query
	packets    [][]byte
	probe      string
	coredns    string
	compared   *Comparison
}

// setup starts the apiserver, loads the Services, writes the query mix,
// starts the stub upstream and finds (or builds) CoreDNS.
func (b *bench) setup(ctx context.Context) error {
	if slices.Contains(b.cfg.Servers, ServerCoreDNS) {
		bin, err := ensureCoreDNS(ctx, b.cfg.CoreDNSBin, b.cfg.CacheDir, b.pr.Logf)
		if err != nil {
			return err
		}
		b.coredns = bin
	}
	b.pr.Step("starting rudder server")
	cl, err := benchcluster.Start(ctx, b.ps, benchcluster.Config{RudderBin: b.cfg.RudderBin, Dir: b.tmp, LogDir: b.logDir})
	if err != nil {
		return err
	}
	b.kubeconfig = cl.Kubeconfig
	cs := cl.Client
	start := time.Now()
	svcs, err := populate(ctx, cs, b.cfg, func(n int) { b.pr.Step("creating services: %d/%d", n, b.cfg.Services) })
	if err != nil {
		return err
	}
	b.pr.Logf("%d services (%d headless) in %d namespaces created in %s", b.cfg.Services, b.cfg.Headless, b.cfg.Namespaces, time.Since(start).Round(100*time.Millisecond))
	if err := waitSlices(ctx, cs, b.cfg.Services, func(n int) { b.pr.Step("endpointslice controller: %d/%d slices", n, b.cfg.Services) }); err != nil {
		return err
	}
	last := svcs[len(svcs)-1]
	b.probe = last.Name + "." + last.Namespace + ".svc.cluster.local."
	if b.mix, err = BuildMix(svcs, "cluster.local", b.cfg.MixSize, mixSeed); err != nil {
		return err
	}
	if b.packets, err = packMix(b.mix); err != nil {
		return err
	}
	b.mixFile = filepath.Join(b.logDir, "mix.txt")
	f, err := os.Create(b.mixFile)
	if err != nil {
		return fmt.Errorf("create query mix file: %w", err)
	}
	err = WriteMix(f, b.mix)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close query mix file: %w", cerr)
	}
	if err != nil {
		return err
	}
	b.stub, err = startStub()
	return err
}

func (b *bench) newResult() *Result {
	r := &Result{
		Date: time.Now().UTC().Format(time.RFC3339), CPUs: runtime.NumCPU(),
		Services: b.cfg.Services, Namespaces: b.cfg.Namespaces, Headless: b.cfg.Headless,
		Mix: MixSummary(b.mix), Duration: b.cfg.Duration.String(), Runs: b.cfg.Runs,
		Clients: b.cfg.Clients, Outstanding: b.cfg.Outstanding,
	}
	for _, s := range b.cfg.Servers {
		info := ServerInfo{Name: s, Binary: b.cfg.RudderBin, Version: benchcluster.RudderVersion(b.cfg.RudderBin)}
		if s == ServerCoreDNS {
			info.Binary, info.Version = b.coredns, version(b.coredns, "-version")
		}
		r.Servers = append(r.Servers, info)
	}
	return r
}
