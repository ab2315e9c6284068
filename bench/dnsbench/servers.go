package dnsbench

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	"rudder/bench/benchproc"
)

// dnsServer is one running DNS server under test.
type dnsServer struct {
	name string
	proc *benchproc.Proc
	port int
}

// serverSpec says how to start one server under test.
type serverSpec struct {
	kubeconfig string
	upstream   string
	dir        string // logs and generated configuration
	cpus       string // taskset -c; empty: unpinned
	extra      []string
}

// startRudderDNS runs `rudder dns` on a free loopback port (the flag
// contract of cmd/rudder/dns.go).
func startRudderDNS(ps *benchproc.Group, bin string, sp serverSpec) (*dnsServer, string, error) {
	port, err := freeUDPTCPPort()
	if err != nil {
		return nil, "", err
	}
	mport, err := benchproc.FreeTCPPort()
	if err != nil {
		return nil, "", err
	}
	args := append([]string{"dns",
		"--kubeconfig", sp.kubeconfig, "--listen", "127.0.0.1:" + strconv.Itoa(port),
		"--cluster-domain", "cluster.local", "--upstream", sp.upstream,
		"--metrics-addr", "127.0.0.1:" + strconv.Itoa(mport), "--log-level", "warn",
		// CoreDNS's `cache 30` caps positive and negative TTLs at 30 s.
		"--cache-max-ttl", "30s", "--cache-negative-max-ttl", "30s"}, sp.extra...)
	p, err := ps.Start("rudder dns", filepath.Join(sp.dir, "rudder-dns.log"), sp.cpus, nil, append([]string{bin}, args...)...)
	if err != nil {
		return nil, "", err
	}
	return &dnsServer{name: ServerRudder, proc: p, port: port}, "http://127.0.0.1:" + strconv.Itoa(mport) + "/ready", nil
}

// corefile is CoreDNS's configuration, rudder's defaults in spirit:
// kubernetes with TTL 5 and insecure pod records, cache 30, forward.
func corefile(port, readyPort int, kubeconfig, upstream string) string {
	return fmt.Sprintf(`.:%d {
    errors
    ready 127.0.0.1:%d
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig %s
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 5
    }
    forward . %s
    cache 30
    loop
}
`, port, readyPort, kubeconfig, upstream)
}

// startCoreDNS runs CoreDNS with a generated Corefile.
func startCoreDNS(ps *benchproc.Group, bin string, sp serverSpec) (*dnsServer, string, error) {
	port, err := freeUDPTCPPort()
	if err != nil {
		return nil, "", err
	}
	rport, err := benchproc.FreeTCPPort()
	if err != nil {
		return nil, "", err
	}
	conf := filepath.Join(sp.dir, "Corefile")
	if err := os.WriteFile(conf, []byte(corefile(port, rport, sp.kubeconfig, sp.upstream)), 0o644); err != nil {
		return nil, "", fmt.Errorf("write Corefile: %w", err)
	}
	p, err := ps.Start("coredns", filepath.Join(sp.dir, "coredns.log"), sp.cpus, nil, bin, "-conf", conf)
	if err != nil {
		return nil, "", err
	}
	return &dnsServer{name: ServerCoreDNS, proc: p, port: port}, "http://127.0.0.1:" + strconv.Itoa(rport) + "/ready", nil
}

// waitReady polls the ready URL until 200, then until the server answers
// probe (the last Service created) with NOERROR, so all Services are loaded.
func waitReady(ctx context.Context, s *dnsServer, readyURL, probe string, timeout time.Duration) error {
	c := &http.Client{Timeout: time.Second}
	ready := false
	err := s.proc.Poll(ctx, timeout, func() bool {
		if !ready {
			if resp, err := c.Get(readyURL); err == nil {
				resp.Body.Close()
				ready = resp.StatusCode == http.StatusOK
			}
		}
		return ready && queryRcode(s.port, probe, dns.TypeA) == dns.RcodeSuccess
	})
	if err == nil || ctx.Err() != nil {
		return err
	}
	if done, _ := s.proc.Exited(); done {
		return err // with the end of the log
	}
	return fmt.Errorf("%s not ready (%s 200 and %s resolving) within %s; log %s:\n%s",
		s.name, readyURL, probe, timeout, s.proc.Log(), benchproc.Tail(s.proc.Log(), 20))
}

// queryRcode asks the server on loopback; -1 when it does not answer.
func queryRcode(port int, name string, qtype uint16) int {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	c := &dns.Client{Timeout: time.Second}
	r, _, err := c.Exchange(m, "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return -1
	}
	return r.Rcode
}

// ensureCoreDNS returns a coredns binary: bin when set, else the one in
// cacheDir, building CoreDNSVersion there with `go install` when missing.
func ensureCoreDNS(ctx context.Context, bin, cacheDir string, logf func(string, ...any)) (string, error) {
	if bin != "" {
		if _, err := os.Stat(bin); err != nil {
			return "", fmt.Errorf("coredns binary: %w", err)
		}
		return bin, nil
	}
	dir := filepath.Join(cacheDir, "coredns-"+CoreDNSVersion)
	bin = filepath.Join(dir, "coredns")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create coredns cache dir: %w", err)
	}
	logf("building CoreDNS %s into %s (about a minute)", CoreDNSVersion, dir)
	cmd := exec.CommandContext(ctx, "go", "install", "github.com/coredns/coredns@"+CoreDNSVersion)
	cmd.Dir = dir // outside any module: the project's go.mod is not touched
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=-mod=mod", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install coredns@%s: %w: %s", CoreDNSVersion, err, benchproc.LastLines(string(out), 10))
	}
	return bin, nil
}

// version is the first line of `bin args...`, for the report.
func version(bin string, args ...string) string {
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		return "unknown"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}
