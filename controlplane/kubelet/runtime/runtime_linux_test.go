package runtime

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/containernetworking/plugins/pkg/ns"

	"rudder/lab/netns"
)

// env is one test's runtime, network namespace and cgroup root.
type env struct {
	rt     *Runtime
	ns     *netns.NS
	prefix string
	dir    string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	prefix := netns.RunPrefix("rdrt")
	mnt, err := FindCgroup2Mount()
	if err != nil {
		t.Fatal(err)
	}
	cgRoot := filepath.Join(mnt, prefix)
	n, err := netns.Create(prefix)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	initArgv := []string{os.Args[0], "container-init"}
	if bin := os.Getenv("RUDDER_TEST_INIT_BINARY"); bin != "" {
		initArgv[0] = bin // e.g. a built rudder, to test its container-init
	}
	rt, err := New(Config{
		LogDir: filepath.Join(dir, "logs"), StateDir: filepath.Join(dir, "state"), CgroupRoot: cgRoot,
		InitArgv: initArgv, RudderBinary: "/bin/echo",
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		_ = n.Delete()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		uids, _ := rt.ListPods()
		for _, uid := range uids {
			if err := rt.KillPod(uid); err != nil {
				t.Error(err)
			}
		}
		if err := rt.cgroups.remove(cgRoot, 5*time.Second); err != nil {
			t.Error(err)
		}
		if err := n.Delete(); err != nil {
			t.Error(err)
		}
	})
	return &env{rt: rt, ns: n, prefix: prefix, dir: dir}
}

func (e *env) spec(name string, cmd ...string) ContainerSpec {
	return ContainerSpec{PodUID: "uid-" + e.prefix, PodNamespace: "default", PodName: "web-0", Name: name,
		Image: "docker.io/library/busybox:1.36", Command: cmd, NetNS: e.ns.Path, Hostname: "web-0"}
}

func (e *env) start(t *testing.T, s ContainerSpec) *Container {
	t.Helper()
	c, err := e.rt.Start(context.Background(), s)
	if err != nil {
		t.Fatalf("start %s: %v", s.Name, err)
	}
	t.Cleanup(func() { _ = e.rt.Stop(c, 0) })
	return c
}

func waitDone(t *testing.T, c *Container) ExitStatus {
	t.Helper()
	select {
	case <-c.Done():
		return c.Exit()
	case <-time.After(10 * time.Second):
		t.Fatalf("container %s did not exit", c.ID())
		return ExitStatus{}
	}
}

var criLine = regexp.MustCompile(`^(\S+) (stdout|stderr) (F|P) (.*)$`)

// readLog parses a CRI log file into the lines of each stream.
func readLog(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := criLine.FindStringSubmatch(sc.Text())
		if m == nil {
			t.Fatalf("bad CRI log line %q", sc.Text())
		}
		if _, err := time.Parse(time.RFC3339Nano, m[1]); err != nil {
			t.Fatalf("bad timestamp in %q: %v", sc.Text(), err)
		}
		out[m[2]] = append(out[m[2]], m[4])
	}
	return out
}

func TestContainerSeesItsNamespacesAndMounts(t *testing.T) {
	e := newEnv(t)
	files := filepath.Join(e.dir, "files")
	ro, rw := filepath.Join(e.dir, "ro"), filepath.Join(e.dir, "rw")
	for _, d := range []string{files, ro, rw} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(files, "resolv.conf"), "nameserver 10.96.0.10\nsearch default.svc.cluster.local\n")
	write(filepath.Join(files, "hosts"), "10.244.1.5 web-0\n")
	write(filepath.Join(ro, "f"), "volume-content\n")
	hostResolv, _ := os.ReadFile("/etc/resolv.conf")
	hostName, _ := os.Hostname()

	// Missing mount targets are created on the host: keep them in dir.
	data := filepath.Join(e.dir, "data")
	s := e.spec("main", "sh", "-c", `cd `+data+`; hostname; cat /etc/resolv.conf /etc/hosts ro/f
ls /sys/class/net | tr '\n' ' '; echo
touch ro/x 2>/dev/null || echo ro-ok
touch rw/y && echo rw-ok
echo to-stderr >&2; exit 3`)
	s.Mounts = []Mount{
		{Source: filepath.Join(files, "resolv.conf"), Target: "/etc/resolv.conf", ReadOnly: true},
		{Source: filepath.Join(files, "hosts"), Target: "/etc/hosts", ReadOnly: true},
		{Source: ro, Target: data + "/ro", ReadOnly: true},
		{Source: rw, Target: data + "/rw"},
	}
	c := e.start(t, s)
	ex := waitDone(t, c)
	if ex.Code != 3 || ex.Reason != "Error" || ex.Signal != "" {
		t.Errorf("exit = %+v, want code 3, reason Error", ex)
	}
	logs := readLog(t, c.LogPath())
	out := strings.Join(logs["stdout"], "\n")
	for _, want := range []string{"web-0", "nameserver 10.96.0.10", "10.244.1.5 web-0", "volume-content", "ro-ok", "rw-ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if !regexp.MustCompile(`(?m)^lo $`).MatchString(out) {
		t.Errorf("container should see only lo in /sys/class/net:\n%s", out)
	}
	if got := logs["stderr"]; len(got) != 1 || got[0] != "to-stderr" {
		t.Errorf("stderr = %q", got)
	}
	if _, err := os.Stat(filepath.Join(rw, "y")); err != nil {
		t.Errorf("write to rw volume not visible on host: %v", err)
	}
	if after, _ := os.ReadFile("/etc/resolv.conf"); !bytes.Equal(after, hostResolv) {
		t.Error("host /etc/resolv.conf changed")
	}
	if after, _ := os.Hostname(); after != hostName {
		t.Errorf("host name changed to %q", after)
	}
	if c.LogPath() != LogPath(e.rt.cfg.LogDir, "default", "web-0", s.PodUID, "main", 0) {
		t.Errorf("log path %s", c.LogPath())
	}
}

func TestHostNetworkKeepsNodeHostname(t *testing.T) {
	e := newEnv(t)
	s := e.spec("host", "sh", "-c", "hostname; wget --help 2>&1 | head -1")
	s.NetNS = ""
	c := e.start(t, s)
	if ex := waitDone(t, c); ex.Code != 0 || ex.Reason != "Completed" {
		t.Errorf("exit = %+v", ex)
	}
	host, _ := os.Hostname()
	out := readLog(t, c.LogPath())["stdout"]
	if len(out) != 2 || out[0] != host {
		t.Fatalf("hostNetwork container: stdout %q, want hostname %q and wget help", out, host)
	}
	if !strings.Contains(out[1], "BusyBox") {
		t.Errorf("wget is not the busybox applet: %q", out[1])
	}
}

func TestSignalsAndStopKillsChildren(t *testing.T) {
	e := newEnv(t)
	c := e.start(t, e.spec("term", "sleep", "1000"))
	if err := e.rt.Stop(c, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if ex := c.Exit(); ex.Code != 143 || ex.Signal != "terminated" {
		t.Errorf("SIGTERM exit = %+v", ex)
	}

	// A shell that ignores SIGTERM, with a forked child: both must die.
	c = e.start(t, e.spec("stubborn", "sh", "-c", `trap "" TERM; sleep 1000 & echo child $!; wait`))
	var child int
	deadline := time.Now().Add(5 * time.Second)
	for child == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		data, _ := os.ReadFile(c.LogPath())
		if m := regexp.MustCompile(`child (\d+)`).FindSubmatch(data); m != nil {
			child = atoi(string(m[1]))
		}
	}
	if child == 0 {
		t.Fatal("no child pid in the log")
	}
	start := time.Now()
	if err := e.rt.Stop(c, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 300*time.Millisecond {
		t.Error("Stop did not wait for the grace period")
	}
	if ex := c.Exit(); ex.Code != 137 || ex.Signal != "killed" {
		t.Errorf("SIGKILL exit = %+v", ex)
	}
	if alive(child) {
		t.Errorf("forked child %d survived Stop", child)
	}
	if _, err := os.Stat(c.cgroup); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("container cgroup %s not removed: %v", c.cgroup, err)
	}
}

// alive says whether pid runs (a zombie waiting for its reaper is dead).
func alive(pid int) bool {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(data), ") ")
	return !strings.HasPrefix(rest, "Z")
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}

func TestExecRunsInsideTheContainer(t *testing.T) {
	e := newEnv(t)
	s := e.spec("sleeper", "sleep", "1000")
	s.Hostname = "exec-host"
	s.WorkingDir = "/tmp"
	c := e.start(t, s)
	var out, errb bytes.Buffer
	code, err := e.rt.Exec(context.Background(), c, []string{"sh", "-c", "hostname; pwd; ls /sys/class/net; echo oops >&2; exit 5"},
		ExecStreams{Stdout: &out, Stderr: &errb})
	if err != nil {
		t.Fatal(err)
	}
	if code != 5 || out.String() != "exec-host\n/tmp\nlo\n" || errb.String() != "oops\n" {
		t.Errorf("exec: code %d stdout %q stderr %q", code, out.String(), errb.String())
	}

	out.Reset()
	code, err = e.rt.Exec(context.Background(), c, []string{"sh", "-c", "test -t 0 && echo on-a-tty"},
		ExecStreams{Stdin: strings.NewReader(""), Stdout: &out, TTY: true})
	if err != nil || code != 0 || !strings.Contains(out.String(), "on-a-tty") {
		t.Errorf("tty exec: code %d err %v out %q", code, err, out.String())
	}

	out.Reset()
	if code, err := e.rt.Exec(context.Background(), c, []string{"cat"}, ExecStreams{Stdin: strings.NewReader("in\n"), Stdout: &out}); code != 0 || err != nil || out.String() != "in\n" {
		t.Errorf("exec with stdin: %d, %v, %q", code, err, out.String())
	}

	// A stdin that never ends does not keep a finished exec waiting.
	pr, pw := io.Pipe()
	defer pw.Close()
	if code, err := e.rt.Exec(context.Background(), c, []string{"true"}, ExecStreams{Stdin: pr}); code != 0 || err != nil {
		t.Errorf("exec with open stdin: %d, %v", code, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	code, _ = e.rt.Exec(ctx, c, []string{"sleep", "1000"}, ExecStreams{})
	if code != 137 {
		t.Errorf("cancelled exec exit code = %d, want 137", code)
	}
}

func TestStartErrors(t *testing.T) {
	e := newEnv(t)
	s := e.spec("x")
	s.Image = "quay.io/someone/unknown:v1"
	var ie *ImageError
	if _, err := e.rt.Start(context.Background(), s); !errors.As(err, &ie) || ie.Reason != "ErrImagePull" {
		t.Errorf("unknown image: err = %v, want *ImageError ErrImagePull", err)
	}
	for _, cmd := range [][]string{{"no-such-program"}, {"/no/such/program"}} {
		var se *StartError
		_, err := e.rt.Start(context.Background(), e.spec("bad", cmd...))
		if !errors.As(err, &se) || se.Reason != "StartError" || !strings.Contains(se.Message, cmd[0]) {
			t.Errorf("start %v: err = %v, want *StartError naming the program", cmd, err)
		}
	}
	s = e.spec("badmount", "true")
	s.Mounts = []Mount{{Source: "/no/such/dir", Target: "/x"}}
	var se *StartError
	if _, err := e.rt.Start(context.Background(), s); !errors.As(err, &se) || !strings.Contains(se.Message, "/no/such/dir") {
		t.Errorf("bad mount: err = %v", err)
	}
}

func TestRudderImageRunsTheRudderBinary(t *testing.T) {
	e := newEnv(t)
	s := e.spec("netexec")
	s.Image, s.Args = "rudder", []string{"netexec", "--http-port=8080"}
	c := e.start(t, s)
	waitDone(t, c)
	if out := readLog(t, c.LogPath())["stdout"]; len(out) != 1 || out[0] != "netexec --http-port=8080" {
		t.Errorf("stdout = %q", out)
	}
}

func TestKillPodEndsAllContainers(t *testing.T) {
	e := newEnv(t)
	a := e.start(t, e.spec("a", "sleep", "1000"))
	b := e.start(t, e.spec("b", "sh", "-c", "sleep 1000 & sleep 1000"))
	uids, err := e.rt.ListPods()
	if err != nil || len(uids) != 1 || uids[0] != a.spec.PodUID {
		t.Fatalf("ListPods = %v, %v", uids, err)
	}
	if err := e.rt.KillPod(a.spec.PodUID); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*Container{a, b} {
		if ex := waitDone(t, c); ex.Signal != "killed" {
			t.Errorf("%s exit = %+v", c.spec.Name, ex)
		}
	}
	if uids, _ := e.rt.ListPods(); len(uids) != 0 {
		t.Errorf("pods left: %v", uids)
	}
}

func TestNginxServesItsPage(t *testing.T) {
	e := newEnv(t)
	if err := checkInstalled("nginx", e.rt.images["nginx"]); err != nil {
		t.Skip(err)
	}
	s := e.spec("nginx")
	s.Image = "nginx:1.27"
	c := e.start(t, s)
	target, err := ns.GetNS(e.ns.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	var body string
	deadline := time.Now().Add(10 * time.Second)
	for body == "" && time.Now().Before(deadline) {
		_ = target.Do(func(ns.NetNS) error {
			conn, err := net.DialTimeout("tcp", "127.0.0.1:80", time.Second)
			if err != nil {
				return err
			}
			defer conn.Close()
			req, _ := http.NewRequest("GET", "http://web-0/", nil)
			if err := req.Write(conn); err != nil {
				return err
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			body = string(b)
			return nil
		})
		if body == "" {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if !strings.Contains(body, "Welcome to nginx") {
		t.Fatalf("nginx page = %q", body)
	}
	if err := e.rt.Stop(c, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if logs := strings.Join(readLog(t, c.LogPath())["stdout"], "\n"); !strings.Contains(logs, `"GET / HTTP/1.1" 200`) {
		t.Errorf("access log not on stdout:\n%s", logs)
	}
}

func TestRootfsImage(t *testing.T) {
	e := newEnv(t)
	root := t.TempDir()
	copyProgram(t, "/bin/busybox", root)
	e.rt.images["tiny"] = Image{Rootfs: root, Entrypoint: []string{"/bin/busybox"},
		Cmd: []string{"sh", "-c", "busybox ls / | busybox tr '\\n' ' '; echo; busybox cat /etc/hosts"}, Env: []string{"PATH=/bin"}}
	hosts := filepath.Join(e.dir, "hosts")
	if err := os.WriteFile(hosts, []byte("10.0.0.1 tiny\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := e.spec("tiny")
	s.Image, s.Mounts = "tiny", []Mount{{Source: hosts, Target: "/etc/hosts", ReadOnly: true}}
	c := e.start(t, s)
	if ex := waitDone(t, c); ex.Code != 0 {
		t.Errorf("exit = %+v, logs %q", ex, readLog(t, c.LogPath()))
	}
	out := readLog(t, c.LogPath())["stdout"]
	if len(out) != 2 || strings.Contains(out[0], "proc") || !strings.Contains(out[0], "bin") || out[1] != "10.0.0.1 tiny" {
		t.Errorf("rootfs container stdout = %q", out)
	}
}

// copyProgram copies a dynamically linked program and its libraries (as
// ldd lists them) into root at the same paths.
func copyProgram(t *testing.T, prog, root string) {
	t.Helper()
	out, err := exec.Command("ldd", prog).Output()
	if err != nil {
		t.Skipf("ldd %s: %v", prog, err)
	}
	files := []string{prog}
	for _, f := range strings.Fields(string(out)) {
		if strings.HasPrefix(f, "/") {
			files = append(files, f)
		}
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}
