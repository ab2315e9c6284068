package benchproc

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseStatusMem(t *testing.T) {
	for _, tc := range []struct {
		name, status string
		want         Mem
		wantErr      bool
	}{
		{name: "coredns", status: "Name:\tcoredns\nVmPeak:\t 1 kB\nVmRSS:\t   75012 kB\nRssAnon:\t  20000 kB\nRssFile:\t 55012 kB\n", want: Mem{RSS: 75012, Anon: 20000}},
		{name: "short", status: "Name:\tx\nVmRSS:\t  2048 kB\nRssAnon:\t  1024 kB\n", want: Mem{RSS: 2048, Anon: 1024}},
		{name: "no RssAnon", status: "Name: x\nVmRSS: 1 kB\n", wantErr: true},
		{name: "neither", status: "Name:\tx\n", wantErr: true},
		{name: "bad number", status: "VmRSS:\tx kB\nRssAnon:\t1 kB\n", wantErr: true},
	} {
		got, err := parseStatusMem(tc.status)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("%s: parseStatusMem = %+v, %v; want %+v, error %v", tc.name, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestCPUTicks(t *testing.T) {
	for _, tc := range []struct {
		stat    string
		want    int64
		wantErr bool
	}{
		{stat: "9 (x y) S 1 9 9 0 -1 4194560 1 2 3 4 250 17 0 0 20 0 1 0", want: 267},
		{stat: "9 (a) b) S 1 9 9 0 -1 4194560 1 2 3 4 5 6", want: 11},
		{stat: "9 (x) S 1", wantErr: true},
		{stat: "garbage", wantErr: true},
		{stat: "9 (x) S 1 9 9 0 -1 4194560 1 2 3 4 u s", wantErr: true},
	} {
		got, err := cpuTicks(tc.stat)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("cpuTicks(%q) = %d, %v; want %d, error %v", tc.stat, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestParentOf(t *testing.T) {
	for stat, want := range map[string]int{
		"123 (nginx) S 45 123 123 0":   45,
		"7 (a (weird) name) R 1 7 7 0": 1,
		"7 (x) R":                      -1,
		"7 (x) R y":                    -1,
		"garbage":                      -1,
	} {
		if got := parentOf(stat); got != want {
			t.Errorf("parentOf(%q) = %d, want %d", stat, got, want)
		}
	}
}

func TestLastLines(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"a\nb\nc\n", 2, "b\nc"},
		{"a\nb\nc", 5, "a\nb\nc"},
		{"a\nb\n\n\n", 1, "b"},
		{"", 3, ""},
		{"a\nb", 0, ""},
	} {
		if got := LastLines(tc.s, tc.n); got != tc.want {
			t.Errorf("LastLines(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}

func TestTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(path, []byte("1\n2\n3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := Tail(path, 2); got != "2\n3" {
		t.Errorf("Tail = %q", got)
	}
	if got := Tail(path+".missing", 2); got != "" {
		t.Errorf("Tail of a missing file = %q", got)
	}
}

func TestParseCPUs(t *testing.T) {
	for _, tc := range []struct {
		cpus    string
		want    []int
		wantErr bool
	}{
		{cpus: "0", want: []int{0}},
		{cpus: "0,1", want: []int{0, 1}},
		{cpus: "x", wantErr: true},
		{cpus: "", wantErr: true},
		{cpus: "0,-1", wantErr: true},
	} {
		set, err := parseCPUs(tc.cpus)
		if (err != nil) != tc.wantErr {
			t.Errorf("parseCPUs(%q): %v, want error %v", tc.cpus, err, tc.wantErr)
			continue
		}
		if err == nil {
			for _, c := range tc.want {
				if !set.IsSet(c) {
					t.Errorf("parseCPUs(%q): CPU %d not set", tc.cpus, c)
				}
			}
			if set.Count() != len(tc.want) {
				t.Errorf("parseCPUs(%q): %d CPUs, want %d", tc.cpus, set.Count(), len(tc.want))
			}
		}
	}
	if err := Pin(os.Getpid(), "x"); err == nil {
		t.Error("Pin with a bad CPU list: no error")
	}
}

func TestPinSelf(t *testing.T) {
	restore, err := PinSelf(0)
	if err != nil {
		t.Fatal(err)
	}
	restore()
}

func TestSelf(t *testing.T) {
	if d, err := TreeCPU(os.Getpid()); err != nil || d < 0 {
		t.Errorf("TreeCPU(self) = %s, %v", d, err)
	}
	if m, err := MemOf(os.Getpid()); err != nil || m.RSS == 0 || m.Procs != 1 {
		t.Errorf("MemOf(self) = %+v, %v", m, err)
	}
	if _, err := MemOf(-1); err == nil {
		t.Error("MemOf(-1): no error")
	}
	if m, err := TreeMem(os.Getpid()); err != nil || m.RSS == 0 || m.Procs < 1 {
		t.Errorf("TreeMem(self) = %+v, %v", m, err)
	}
}

func TestGroup(t *testing.T) {
	dir := t.TempDir()
	g := &Group{}
	t.Cleanup(g.StopAll)
	sleeper, err := g.Start("sleeper", filepath.Join(dir, "sleep.log"), "", nil, "sleep", "30")
	if err != nil {
		t.Fatal(err)
	}
	if done, err := sleeper.Exited(); done {
		t.Fatalf("sleeper exited: %v", err)
	}
	if !slices.Contains(Children(os.Getpid()), sleeper.PID()) {
		t.Errorf("Children(self) lacks the sleeper %d", sleeper.PID())
	}
	if m, err := TreeMem(os.Getpid()); err != nil || m.Procs < 2 {
		t.Errorf("TreeMem(self) with a child = %+v, %v", m, err)
	}
	if err := sleeper.Poll(context.Background(), 300*time.Millisecond, func() bool { return false }); err == nil || !strings.Contains(err.Error(), "not ready within") {
		t.Errorf("Poll never ok: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sleeper.Poll(ctx, time.Minute, func() bool { return false }); err != context.Canceled {
		t.Errorf("Poll after cancel: %v", err)
	}

	failer, err := g.Start("failer", filepath.Join(dir, "fail.log"), "", []string{"BENCHPROC_WORD=hello"}, "sh", "-c", "echo $BENCHPROC_WORD; exit 3")
	if err != nil {
		t.Fatal(err)
	}
	err = failer.Poll(context.Background(), 10*time.Second, func() bool { return false })
	if err == nil || !strings.Contains(err.Error(), "failer exited") || !strings.Contains(err.Error(), "hello") {
		t.Errorf("Poll of a failing process: %v", err)
	}
	if failer.Name() != "failer" || failer.Log() != filepath.Join(dir, "fail.log") {
		t.Errorf("Name, Log = %q, %q", failer.Name(), failer.Log())
	}

	g.StopAll()
	if done, _ := sleeper.Exited(); !done {
		t.Error("sleeper still running after StopAll")
	}
	g.Stop(nil)
}

func TestStartPinned(t *testing.T) {
	if _, err := exec.LookPath("taskset"); err != nil {
		t.Skip("no taskset")
	}
	g := &Group{}
	t.Cleanup(g.StopAll)
	p, err := g.Start("pinned", filepath.Join(t.TempDir(), "log"), "0", nil, "sleep", "30")
	if err != nil {
		t.Fatal(err)
	}
	// taskset execs: the PID turns into sleep's own.
	err = p.Poll(context.Background(), 10*time.Second, func() bool {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(p.PID()) + "/comm")
		return err == nil && strings.TrimSpace(string(b)) == "sleep"
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := Pin(p.PID(), "0"); err != nil {
		t.Errorf("Pin: %v", err)
	}
}

func TestStartErrors(t *testing.T) {
	g := &Group{}
	t.Cleanup(g.StopAll)
	dir := t.TempDir()
	if _, err := g.Start("none", filepath.Join(dir, "log"), "", nil); err == nil {
		t.Error("no argv: no error")
	}
	if _, err := g.Start("missing", filepath.Join(dir, "log"), "", nil, filepath.Join(dir, "missing")); err == nil {
		t.Error("missing binary: no error")
	}
	if _, err := g.Start("nolog", filepath.Join(dir, "no", "such", "log"), "", nil, "true"); err == nil {
		t.Error("log in a missing directory: no error")
	}
}

func TestFreeTCPPort(t *testing.T) {
	p, err := FreeTCPPort()
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	if err != nil {
		t.Fatalf("port %d not free: %v", p, err)
	}
	l.Close()
}
