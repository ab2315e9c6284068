package ingressbench

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"rudder/bench/benchout"
)

func TestParseWrk(t *testing.T) {
	good := `Running 2s test @ http://127.0.0.1:1/bytes/1024
  2 threads and 16 connections
Requests/sec:  89585.97
INGRESSBENCH {"requests":188161,"duration_us":2100340,"bytes":215068023,"connect_errors":1,"read_errors":2,"write_errors":0,"status_errors":3,"timeouts":4,"p50_us":121.0,"p90_us":642.0,"p99_us":3955.0,"p999_us":6939.0,"mean_us":314.3,"max_us":13006.0}
`
	s, err := ParseWrk(good)
	if err != nil {
		t.Fatal(err)
	}
	if s.Requests != 188161 || s.P50Us != 121 || s.P99Us != 3955 || s.Errors() != 10 {
		t.Errorf("parsed %+v", s)
	}
	if rps := s.RPS(); rps < 89585 || rps > 89587 {
		t.Errorf("RPS %.2f, want 89585.97", rps)
	}
	for name, out := range map[string]string{
		"no line":     "Running 2s test\nRequests/sec: 1\n",
		"bad json":    "INGRESSBENCH {\"requests\":nan}\n",
		"no duration": `INGRESSBENCH {"requests":5,"duration_us":0}` + "\n",
		"empty":       "",
	} {
		if _, err := ParseWrk(out); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestWrkScript(t *testing.T) {
	s := wrkScript([]string{"127.0.0.1:8080", "127.0.0.1:8081"})
	for _, want := range []string{`{"127.0.0.1", "8080"}, {"127.0.0.1", "8081"}`, "thread.addr = wrk.lookup", "function done", wrkMarker} {
		if !strings.Contains(s, want) {
			t.Errorf("script lacks %q:\n%s", want, s)
		}
	}
	if !strings.Contains(wrkScript(nil), "local addrs = {}") {
		t.Errorf("proxy script spreads threads:\n%s", wrkScript(nil))
	}
}

// TestWrkAgainstServer runs the real wrk with both scripts against two
// loopback servers: the Lua is valid and the direct script reaches both.
func TestWrkAgainstServer(t *testing.T) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		t.Skip("wrk not installed (apt-get install wrk)")
	}
	var addrs []string
	hits := make([]chan struct{}, 2)
	for i := range hits {
		hits[i] = make(chan struct{}, 1)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Host != Host {
				http.Error(w, "wrong host "+r.Host, http.StatusBadRequest)
				return
			}
			select {
			case hits[i] <- struct{}{}:
			default:
			}
			_, _ = w.Write([]byte("ok"))
		})}
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { srv.Close() })
		addrs = append(addrs, ln.Addr().String())
	}
	direct, proxy, err := writeScripts(t.TempDir(), addrs)
	if err != nil {
		t.Fatal(err)
	}
	for _, script := range []string{direct, proxy} {
		w := wrkRun{bin: wrk, url: "http://" + addrs[0] + "/", script: script, threads: 2, connections: 2, duration: time.Second}
		st, err := w.run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.Requests == 0 || st.Errors() != 0 || st.P99Us <= 0 {
			t.Errorf("%s: %+v", filepath.Base(script), st)
		}
	}
	for i, h := range hits {
		select {
		case <-h:
		default:
			t.Errorf("server %d got no request", i)
		}
	}
}

func TestWrkArgv(t *testing.T) {
	w := wrkRun{bin: "wrk", url: "http://x/", script: "s.lua", threads: 2, connections: 64, duration: 10 * time.Second, cpus: "1"}
	got := strings.Join(w.argv(), " ")
	want := "taskset -c 1 wrk -t 2 -c 64 -d 10s --timeout 5s -H Host: bench.example -s s.lua http://x/"
	if got != want {
		t.Errorf("argv\n got %s\nwant %s", got, want)
	}
}

func TestNginxConf(t *testing.T) {
	dir := t.TempDir()
	cert, err := newBenchCert(filepath.Join(dir, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	c := nginxConf{Prefix: dir, Workers: 2, Port: 18080, NoKeepalivePort: 18081, HeadersPort: 18082, TLSPort: 18443,
		CertFile: cert.certFile, KeyFile: cert.keyFile, Backends: []string{"127.0.0.1:1", "127.0.0.1:2"}, Keepalive: nginxKeepalive(2)}
	conf := c.render()
	for _, want := range []string{"worker_processes 2;", "access_log off;", "server 127.0.0.1:1;", "server 127.0.0.1:2;",
		"keepalive 512;", "proxy_http_version 1.1;", `proxy_set_header Connection "";`, "proxy_set_header Host $host;",
		"listen 127.0.0.1:18080;", "listen 127.0.0.1:18081;", "upstream backends_nokeepalive", filepath.Join(dir, "nginx.pid"),
		"listen 127.0.0.1:18082;", "proxy_set_header X-Request-ID $request_id;", "add_header X-Request-ID $request_id always;",
		"listen 127.0.0.1:18443 ssl;", "ssl_certificate " + cert.certFile + ";", "ssl_prefer_server_ciphers on;"} {
		if !strings.Contains(conf, want) {
			t.Errorf("nginx.conf lacks %q:\n%s", want, conf)
		}
	}
	if strings.Count(conf, "X-Request-ID $request_id;") != 2 {
		t.Errorf("the header work on other than the headers and TLS servers:\n%s", conf)
	}
	if strings.Count(conf, "keepalive 512;") != 1 {
		t.Errorf("keepalive in both upstreams:\n%s", conf)
	}
	if strings.Contains(conf, "user ") {
		t.Errorf("user directive without User:\n%s", conf)
	}
	nginx, err := findTool("", "/usr/sbin/nginx", "nginx")
	if err != nil {
		t.Skip("nginx not installed: config not checked with nginx -t")
	}
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(nginx, "-t", "-q", "-c", path, "-p", dir, "-e", filepath.Join(dir, "error.log")).CombinedOutput()
	if err != nil {
		t.Errorf("nginx -t: %v\n%s", err, out)
	}
}

func TestConfig(t *testing.T) {
	d := Config{RudderBin: "rudder"}.Defaults()
	if len(d.Paths) != 6 || len(d.Modes) != 2 || fmt.Sprint(d.Connections) != "[16 64 256]" || d.Threads != 2 ||
		d.BodyBytes != 1024 || d.Duration != 10*time.Second || d.Runs != 3 || d.Out == "" {
		t.Errorf("defaults %+v", d)
	}
	q := Quick(Config{RudderBin: "rudder", Runs: 2}).Defaults()
	if len(q.Paths) != 3 || q.Runs != 2 || q.Duration != 2*time.Second || fmt.Sprint(q.Connections) != "[64]" || fmt.Sprint(q.Modes) != "[pinned]" {
		t.Errorf("quick %+v", q)
	}
	if err := d.Validate(); err != nil {
		t.Errorf("defaults invalid: %v", err)
	}
	bad := map[string]Config{
		"no binary":       {},
		"unknown path":    {RudderBin: "r", Paths: []string{"haproxy"}},
		"unknown mode":    {RudderBin: "r", Modes: []string{"half"}},
		"zero conns":      {RudderBin: "r", Connections: []int{0}},
		"conns < threads": {RudderBin: "r", Connections: []int{1}, Threads: 2},
		"huge body":       {RudderBin: "r", BodyBytes: 2 << 20},
	}
	for name, c := range bad {
		if err := c.Defaults().Validate(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestPlanFor(t *testing.T) {
	p := planFor(ModePinned, 2)
	if p.proxy != "0" || p.load != "1" || p.directBackends != "0" || p.all != "0,1" || p.procs != 1 {
		t.Errorf("pinned on 2 CPUs: %+v", p)
	}
	if p := planFor(ModeUnpinned, 4); p.proxy != "" || p.load != "" || p.all != "0,1,2,3" || p.procs != 4 {
		t.Errorf("unpinned on 4 CPUs: %+v", p)
	}
	if p := planFor(ModePinned, 1); p.proxy != "" || p.procs != 1 {
		t.Errorf("pinned on 1 CPU: %+v", p)
	}
}

func testResult() *Result {
	pt := func(path string, c int, rps, p99 float64) Point {
		pt := Point{Path: path, Connections: c, RPS: []float64{rps - 100, rps, rps + 50}, P50Ms: []float64{0.5, 0.5, 0.6}, P99Ms: []float64{p99, p99, p99 + 1}}
		pt.BackendCPUUs, pt.WrkCPUUs = []float64{15, 16, 17}, []float64{8, 8, 8}
		if path != PathDirect {
			pt.ProxyCPUUs = []float64{rps / 1000, rps / 2000}
			pt.Busy = []float64{0.97, 0.99, 0.98}
		}
		return pt
	}
	return &Result{
		CPUs: 2, Duration: "10s", NginxKeepalive: 512, Runs: 3, Threads: 2, BodyBytes: 1024, Connections: []int{16, 64},
		Paths: []string{PathDirect, PathRudder, PathNginx}, Versions: map[string]string{"rudder": "rudder v1", "nginx": "nginx/1.22.1"},
		Modes: []ModeResult{{Mode: ModePinned, Placement: "proxy on CPU 0",
			Points: []Point{
				pt(PathDirect, 16, 60000, 1), pt(PathRudder, 16, 45000, 2), pt(PathNginx, 16, 40000, 3),
				pt(PathDirect, 64, 60000, 4), pt(PathRudder, 64, 38000, 5), pt(PathNginx, 64, 40000, 4),
			},
			Memory: []Memory{{Path: PathRudder, Processes: 1, RSSMiB: 30, AnonMiB: 12}, {Path: PathNginx, Processes: 2, RSSMiB: 18, AnonMiB: 9}},
		}},
		LoadStart: "0.10", LoadEnd: "1.50",
	}
}

func TestVerdicts(t *testing.T) {
	vs := testResult().Verdicts()
	if len(vs) != 2 {
		t.Fatalf("%d verdicts, want 2: %+v", len(vs), vs)
	}
	if v := vs[0]; !v.Met || v.Connections != 16 || v.Ratio != 1.125 || v.VsDirect != 0.75 || v.RudderP99 != 2 || v.NginxP99 != 3 {
		t.Errorf("16 connections: %+v", v)
	}
	if v := vs[1]; v.Met || v.Ratio != 0.95 {
		t.Errorf("64 connections (slower, worse p99): %+v", v)
	}
	r := testResult()
	r.Paths = []string{PathDirect, PathNginx}
	r.Modes[0].Points = r.Modes[0].Points[:1]
	if vs := r.Verdicts(); len(vs) != 0 {
		t.Errorf("verdicts without rudder: %+v", vs)
	}
}

func TestAddCPU(t *testing.T) {
	pinned, unpinned := planFor(ModePinned, 2), planFor(ModeUnpinned, 2)
	st := WrkStats{Requests: 40000, DurationUs: 1e6, CPU: 300 * time.Millisecond}
	c := runCPU{proxy: 600 * time.Millisecond, backends: 640 * time.Millisecond}
	for _, tc := range []struct {
		name  string
		path  string
		plan  cpuPlan
		cpu   runCPU
		proxy []float64
		busy  []float64
	}{
		// 640 ms + 300 ms of CPU 1 in one second.
		{"pinned proxy path", PathRudder, pinned, c, []float64{15}, []float64{0.94}},
		// The backends and wrk are on different CPUs: no busy share.
		{"pinned direct", PathDirect, pinned, runCPU{backends: c.backends}, nil, nil},
		// Everything over two CPUs.
		{"unpinned", PathNginx, unpinned, c, []float64{15}, []float64{0.77}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := Point{Path: tc.path}
			p.addCPU(st, tc.cpu, tc.plan)
			if !slices.Equal(p.ProxyCPUUs, tc.proxy) || !slices.Equal(p.BackendCPUUs, []float64{16}) || !slices.Equal(p.WrkCPUUs, []float64{7.5}) {
				t.Errorf("per request: proxy %v backends %v wrk %v", p.ProxyCPUUs, p.BackendCPUUs, p.WrkCPUUs)
			}
			if len(p.Busy) != len(tc.busy) || (len(p.Busy) == 1 && math.Abs(p.Busy[0]-tc.busy[0]) > 0.001) {
				t.Errorf("busy %v, want %v", p.Busy, tc.busy)
			}
		})
	}
}

func TestBoundOnlyWhenBothSaturated(t *testing.T) {
	v := Verdict{Mode: ModePinned, RudderLoad: LoadSide{Busy: 0.98, UsPerReq: 26}, NginxLoad: LoadSide{Busy: 0.8, UsPerReq: 24}}
	if s := v.bound(); s != "" {
		t.Errorf("nginx's load side at 80 %%: %q", s)
	}
	v.NginxLoad.Busy = 0.99
	if s := v.bound(); !strings.Contains(s, "26.0 µs through rudder against 24.0 µs") {
		t.Errorf("both saturated: %q", s)
	}
	v.Mode = ModeUnpinned
	if s := v.bound(); s != "" {
		t.Errorf("unpinned without the proxies' CPU: %q", s)
	}
	v.RudderCPUUs, v.NginxCPUUs = 15, 14
	if s := v.bound(); !strings.Contains(s, "all CPUs 98 % / 99 % busy") || !strings.Contains(s, "41.0 µs through rudder against 38.0 µs") {
		t.Errorf("unpinned: %q", s)
	}
}

func TestMarkdown(t *testing.T) {
	var b strings.Builder
	if err := testResult().WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"## Ingress:", "keepalive 512", "| pinned | 16 | rudder | 45,000 (44,900–45,050) | 0.500 | 2.000 | 1.12× | 0.75× | 33.8 | 16.0 | 8.0 | 98 % | 0 |",
		"| pinned | 16 | nginx | 40,000 (39,900–40,050) | 0.500 | 3.000 |  | 0.67× | 30.0 | 16.0 | 8.0 | 98 % | 0 |",
		"| pinned | 64 | direct | 60,000 (59,900–60,050) | 0.500 | 4.000 | 1.50× |  |  | 16.0 | 8.0 |  | 0 |",
		"met at 1 of 2 points", "pinned, 64 connections: 0.95× nginx, p99 5.000 ms against 4.000 ms: not met; 0.63× direct (overhead 37%); CPU per request 28.5 µs against 30.0 µs; the CPU of wrk and the backends 98 % / 98 % busy, so req/s follows what a request costs there: 24.0 µs through rudder against 24.0 µs through nginx.",
		"| pinned | nginx | 2 | 18.0 | 9.0 |", "0.10 before, 1.50 after", "pinned: proxy on CPU 0.",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	path := filepath.Join(t.TempDir(), "ingress.json")
	if err := benchout.WriteJSON(path, testResult()); err != nil {
		t.Fatal(err)
	}
}

func TestCheckBody(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != Host {
			http.Error(w, "wrong host", http.StatusNotFound)
			return
		}
		_, _ = w.Write([]byte(strings.Repeat("x", 10)))
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	url := "http://" + ln.Addr().String() + "/"
	if err := checkBody(url, 10, nil); err != nil {
		t.Error(err)
	}
	if err := checkBody(url, 11, nil); err == nil || !strings.Contains(err.Error(), "10 bytes") {
		t.Errorf("wrong size: %v", err)
	}
	if !httpOK(url, Host) || httpOK(url, "") {
		t.Error("httpOK does not send the Host header")
	}
}

// TestMarkdownTLS: the TLS paths are compared with nginx-tls, not plain
// nginx, in the table and in their own lines, and stay out of the aim.
func TestMarkdownTLS(t *testing.T) {
	r := testResult()
	r.Paths = append(r.Paths, PathRudderTLS, PathNginxTLS)
	m := &r.Modes[0]
	for _, p := range []struct {
		path string
		rps  float64
	}{{PathRudderTLS, 30000}, {PathNginxTLS, 32000}} {
		m.Points = append(m.Points, Point{Path: p.path, Connections: 16, RPS: []float64{p.rps}, P50Ms: []float64{0.6}, P99Ms: []float64{2.5},
			ProxyCPUUs: []float64{p.rps / 1500}})
	}
	var b strings.Builder
	if err := r.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"| pinned | 16 | rudder-tls | 30,000 | 0.600 | 2.500 | 0.94× | 0.50× | 20.0 |",
		"| pinned | 16 | nginx-tls | 32,000 | 0.600 | 2.500 |  | 0.53× | 21.3 |",
		"Over TLS", "- pinned, 16 connections: 0.94× nginx-tls, p99 2.500 ms against 2.500 ms; CPU per request 20.0 µs against 21.3 µs.",
		"met at 1 of 2 points",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}
