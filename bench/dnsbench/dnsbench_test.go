package dnsbench

import (
	"context"
	"math"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"rudder/bench/report"
)

func testServices() []Service {
	var out []Service
	for i := range 50 {
		ns, name := serviceName(i, 5)
		s := Service{Namespace: ns, Name: name, ClusterIP: "10.96.0." + strconv.Itoa(i+10)}
		if i < 3 {
			s.ClusterIP, s.Endpoints = "None", []string{endpointIP(i, 0)}
		}
		out = append(out, s)
	}
	return out
}

func TestBuildMix(t *testing.T) {
	qs, err := BuildMix(testServices(), "Cluster.Local", 20000, 1)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := BuildMix(testServices(), "cluster.local.", 20000, 1)
	for i := range qs {
		if qs[i] != again[i] {
			t.Fatalf("mix not deterministic at %d: %v vs %v", i, qs[i], again[i])
		}
	}
	share := map[string]int{}
	for _, m := range mixShares {
		share[m.Kind] = m.Share
	}
	for _, k := range MixSummary(qs) {
		got := 100 * float64(k.Count) / float64(len(qs))
		if math.Abs(got-float64(share[k.Kind])) > 1.5 {
			t.Errorf("%s: %.1f%% of the mix, want about %d%%", k.Kind, got, share[k.Kind])
		}
	}
	for _, q := range qs {
		if _, ok := dns.IsDomainName(q.Name); !ok || !dns.IsFqdn(q.Name) {
			t.Fatalf("bad name %q", q.Name)
		}
		want := map[string]string{
			"service A": ".svc.cluster.local.", "service SRV": ".svc.cluster.local.", "service PTR": ".in-addr.arpa.",
			"search miss cluster.local (NXDOMAIN)": ".example.", "forwarded A": ".example.",
		}[q.Kind]
		if want != "" && !strings.Contains(q.Name, want) && !strings.Contains(q.Name, strings.TrimPrefix(want, ".")) {
			t.Errorf("%s query %q lacks %q", q.Kind, q.Name, want)
		}
	}
}

func TestBuildMixNames(t *testing.T) {
	svcs := testServices()
	qs, _ := BuildMix(svcs, "cluster.local", 5000, 2)
	seen := map[string]string{}
	for _, q := range qs {
		seen[q.Kind] = q.Name + " " + q.Type
	}
	tests := []struct{ kind, prefix, suffix string }{
		{"service A", "svc-", ".svc.cluster.local. A"},
		{"service AAAA (NODATA)", "svc-", ".svc.cluster.local. AAAA"},
		{"service SRV", "_http._tcp.svc-", ".svc.cluster.local. SRV"},
		{"service PTR", "", ".96.10.in-addr.arpa. PTR"},
		{"headless A", "svc-", ".svc.cluster.local. A"},
		{"search miss ns.svc (NXDOMAIN)", "", ".svc.cluster.local. A"},
		{"search miss svc (NXDOMAIN)", "", ".svc.cluster.local. A"},
		{"search miss cluster.local (NXDOMAIN)", "", ".cluster.local. A"},
		{"forwarded A", "", ".example.com. A"},
	}
	for _, tt := range tests {
		got := seen[tt.kind]
		if !strings.HasPrefix(got, tt.prefix) || !(strings.HasSuffix(got, tt.suffix) || tt.kind == "forwarded A" && strings.HasSuffix(got, ".example.org. A")) {
			t.Errorf("%s: %q, want %s...%s", tt.kind, got, tt.prefix, tt.suffix)
		}
	}
	if _, err := BuildMix(svcs[3:], "cluster.local", 10, 1); err == nil {
		t.Error("mix without headless services: no error")
	}
}

func TestWriteMix(t *testing.T) {
	var b strings.Builder
	if err := WriteMix(&b, []Query{{Name: "a.b.", Type: "A"}, {Name: "c.", Type: "SRV"}}); err != nil {
		t.Fatal(err)
	}
	if b.String() != "a.b. A\nc. SRV\n" {
		t.Errorf("got %q", b.String())
	}
}

const perfOutput = `DNS Performance Testing Tool
Version 2.10.0

[Status] Testing complete (time limit)

Statistics:

  Queries sent:         209437
  Queries completed:    209312 (99.94%)
  Queries lost:         125 (0.06%)

  Response codes:       NOERROR 144681 (69.12%), NXDOMAIN 64631 (30.88%)
  Average packet size:  request 45, response 112
  Run time (s):         5.000367
  Queries per second:   41859.327545

  Average Latency (s):  0.002388 (min 0.000019, max 0.031005)
  Latency StdDev (s):   0.001313
`

func TestParsePerf(t *testing.T) {
	st, err := ParsePerf(perfOutput)
	if err != nil {
		t.Fatal(err)
	}
	if st.Sent != 209437 || st.Completed != 209312 || st.Lost != 125 || st.QPS != 41859.327545 ||
		st.AvgLatency != 0.002388 || st.MaxLatency != 0.031005 || st.Rcodes["NOERROR"] != 144681 || st.Rcodes["NXDOMAIN"] != 64631 {
		t.Errorf("parsed %+v", st)
	}
	if _, err := ParsePerf("Error: could not open file\n"); err == nil {
		t.Error("output without statistics: no error")
	}
	if _, err := ParsePerf(strings.Replace(perfOutput, "209437", "x", 1)); err == nil {
		t.Error("bad number: no error")
	}
}

func TestCorefile(t *testing.T) {
	c := corefile(5353, 8181, "/tmp/k", "127.0.0.1:9999")
	for _, want := range []string{".:5353 {", "ready 127.0.0.1:8181", "kubeconfig /tmp/k", "pods insecure", "ttl 5", "forward . 127.0.0.1:9999", "cache 30"} {
		if !strings.Contains(c, want) {
			t.Errorf("Corefile lacks %q:\n%s", want, c)
		}
	}
}

func TestStubAnswer(t *testing.T) {
	tests := []struct {
		name    string
		qtype   uint16
		rcode   int
		answers int
	}{
		{"www1.Example.com.", dns.TypeA, dns.RcodeSuccess, 1},
		{"api3.example.org.", dns.TypeA, dns.RcodeSuccess, 1},
		{"www1.example.com.", dns.TypeAAAA, dns.RcodeSuccess, 0},
		{"www1.example.net.", dns.TypeA, dns.RcodeNameError, 0},
		{"www1.example.com.svc.cluster.local.", dns.TypeA, dns.RcodeNameError, 0},
	}
	for _, tt := range tests {
		q := new(dns.Msg)
		q.SetQuestion(tt.name, tt.qtype)
		r := stubAnswer(q)
		if _, err := r.Pack(); err != nil {
			t.Errorf("%s: reply does not pack: %v", tt.name, err)
		}
		if r.Rcode != tt.rcode || len(r.Answer) != tt.answers || (tt.answers == 0 && len(r.Ns) != 1) {
			t.Errorf("%s %d: rcode %d, %d answers, %d authority", tt.name, tt.qtype, r.Rcode, len(r.Answer), len(r.Ns))
		}
	}
	if r := stubAnswer(new(dns.Msg)); r.Rcode != dns.RcodeFormatError {
		t.Errorf("no question: rcode %d", r.Rcode)
	}
}

// TestFixedRate drives the stub upstream over loopback with the generator.
func TestFixedRate(t *testing.T) {
	stub, err := startStub()
	if err != nil {
		t.Fatal(err)
	}
	defer stub.close()
	pk, err := packMix([]Query{{Name: "a.example.com.", Type: "A"}, {Name: "b.example.net.", Type: "AAAA"}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := fixedRate{addr: stub.addr, packets: pk, rate: 2000, duration: time.Second, sockets: 2}.run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent < 1800 || res.Sent > 2100 || res.Received < res.Sent*99/100 || len(res.Latencies) != res.Received {
		t.Errorf("sent %d, received %d at 2000 qps for 1 s", res.Sent, res.Received)
	}
	if got := stub.queries.Load(); got != int64(res.Sent) {
		t.Errorf("stub saw %d queries, generator sent %d", got, res.Sent)
	}
	if _, err := (fixedRate{addr: stub.addr, rate: 10, sockets: 1}).run(context.Background()); err == nil {
		t.Error("no packets: no error")
	}
	if _, err := packMix([]Query{{Name: "a.", Type: "BOGUS"}}); err == nil {
		t.Error("unknown type: no error")
	}
}

func TestConfig(t *testing.T) {
	c := Config{RudderBin: "x"}.Defaults()
	if c.Services != 10000 || c.Headless != 100 || c.Runs != 3 || len(c.Servers) != 2 || len(c.Modes) != 2 || c.CacheDir == "" {
		t.Errorf("defaults: %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
	bad := []Config{
		{},
		{RudderBin: "x", Servers: []string{"bind"}},
		{RudderBin: "x", Modes: []string{"sometimes"}},
		{RudderBin: "x", Services: 10, Headless: 11},
	}
	for _, b := range bad {
		if err := b.Defaults().Validate(); err == nil {
			t.Errorf("%+v: no error", b)
		}
	}
}

func TestFreePorts(t *testing.T) {
	p, err := freeUDPTCPPort()
	if err != nil {
		t.Fatal(err)
	}
	for _, nw := range []string{"udp", "tcp"} {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
		var err error
		if nw == "udp" {
			var c net.PacketConn
			if c, err = net.ListenPacket(nw, addr); err == nil {
				c.Close()
			}
		} else {
			var l net.Listener
			if l, err = net.Listen(nw, addr); err == nil {
				l.Close()
			}
		}
		if err != nil {
			t.Errorf("port %d not free for %s: %v", p, nw, err)
		}
	}
}

func TestMarkdown(t *testing.T) {
	r := &Result{
		Services: 10000, Namespaces: 100, Headless: 100, Duration: "10s", Runs: 3, Clients: 20, Outstanding: 200,
		Servers: []ServerInfo{{Name: ServerRudder, Version: "rudder v0"}, {Name: ServerCoreDNS, Version: "CoreDNS-1.14.0"}},
		Mix:     []KindCount{{Kind: "service A", Count: 6000}},
		Modes: []ModeResult{{Mode: ModePinned, LatencyQPS: 20000, Servers: []ServerRun{
			{Server: ServerRudder, QPS: []float64{90000, 80000, 100000}, QPSMedian: 90000, P99Ms: 0.5, Rcodes: map[string]int{"NOERROR": 7, "NXDOMAIN": 3}},
			{Server: ServerCoreDNS, QPS: []float64{40000}, QPSMedian: 40000, P99Ms: 0.6},
		}}},
	}
	var b strings.Builder
	if err := r.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{"(10,000 services)", "| pinned | rudder | 90,000 (80,000–100,000) | 2.25× | 20,000 |", "| 30.0 |",
		"Aim (pinned): QPS ≥ 1.5× CoreDNS at a p99 no worse: 2.25×, p99 0.500 ms against 0.600 ms: met.", "| service A | 6000 |"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if got := report.Thousands(1234567); got != "1,234,567" {
		t.Errorf("thousands = %s", got)
	}
	if got := report.Samples([]float64{3, 1, 2, 4}).Median(); got != 2.5 {
		t.Errorf("median = %v", got)
	}
}

func BenchmarkStubAnswer(b *testing.B) {
	q := new(dns.Msg)
	q.SetQuestion("www12.example.com.", dns.TypeA)
	b.ReportAllocs()
	for b.Loop() {
		_ = stubAnswer(q)
	}
}

func TestVersions(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "fake")
	script := "#!/bin/sh\nprintf 'CoreDNS-1.14.0\\nlinux/amd64\\n'\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := version(bin, "-version"); got != "CoreDNS-1.14.0" {
		t.Errorf("version = %q", got)
	}
	if got := version(filepath.Join(dir, "missing")); got != "unknown" {
		t.Errorf("missing binary: %q", got)
	}
}

func TestCompareAnswers(t *testing.T) {
	stub, err := startStub()
	if err != nil {
		t.Fatal(err)
	}
	defer stub.close()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nx := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetRcode(r, dns.RcodeNameError)
		_ = w.WriteMsg(m)
	})}
	go func() { _ = nx.ActivateAndServe() }()
	defer nx.Shutdown()
	stubPort := stub.udp.PacketConn.LocalAddr().(*net.UDPAddr).Port
	nxPort := pc.LocalAddr().(*net.UDPAddr).Port
	qs := []Query{{Name: "a.example.com.", Type: "A", Kind: "x"}, {Name: "a.example.com.", Type: "A", Kind: "y"}, {Name: "b.example.net.", Type: "A"}}
	c := compareAnswers(context.Background(), stubPort, nxPort, qs, 10)
	if c.Checked != 2 || c.Differing != 1 || len(c.Mismatches) != 1 || !strings.HasPrefix(c.Mismatches[0].Rudder, "NOERROR; a.example.com.\t0\tin\ta\t192.0.2.") ||
		c.Mismatches[0].CoreDNS != "NXDOMAIN; " {
		t.Errorf("comparison %+v", c)
	}
	if c := compareAnswers(context.Background(), stubPort, stubPort, qs, 1); c.Checked != 1 || c.Differing != 0 {
		t.Errorf("same server, limit 1: %+v", c)
	}
	r := &Result{Compared: &c}
	if got := r.comparisonLines(); !strings.Contains(got, "Different answers: 1 of 2") || !strings.Contains(got, "| `a.example.com. A` |") {
		t.Errorf("report lines:\n%s", got)
	}
	if got := (&Result{Compared: &Comparison{Checked: 5}}).comparisonLines(); !strings.Contains(got, "all 5 distinct queries") {
		t.Errorf("report lines:\n%s", got)
	}
}
