package sysinfo

import (
	"bufio"
	"encoding/binary"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

func TestParseCPUModel(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"x86", "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13 64-Core Processor\nprocessor\t: 1\nmodel name\t: other\n",
			"AMD EPYC 7B13 64-Core Processor"},
		{"spaces collapsed", "model name\t: Intel(R) Xeon(R) CPU   @ 2.20GHz  \n", "Intel(R) Xeon(R) CPU @ 2.20GHz"},
		{"old arm", "Processor\t: ARMv7 Processor rev 4 (v7l)\nHardware\t: BCM2835\n", "ARMv7 Processor rev 4 (v7l)"},
		{"arm hardware only", "processor\t: 0\nBogoMIPS\t: 50.00\nHardware\t: Raspberry Pi\n", "Raspberry Pi"},
		{"mips", "system type\t: foo\ncpu model\t: MIPS 24Kc V7.4\n", "MIPS 24Kc V7.4"},
		{"model name preferred", "Hardware\t: board\nmodel name\t: the CPU\n", "the CPU"},
		{"empty value skipped", "model name\t:\nmodel name\t: second\n", "second"},
		{"nothing", "processor\t: 0\nBogoMIPS\t: 50.00\n", "unknown " + runtime.GOARCH},
		{"empty", "", "unknown " + runtime.GOARCH},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := parseCPUModel(bufio.NewScanner(strings.NewReader(c.in))); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestParseStat(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		want    uint64
		wantErr bool
	}{
		// busy = user+nice+system+irq+softirq+steal; idle, iowait and guest left out.
		{"full", "cpu  751474 1 250435 1733327 7792 3 32555 119 50 7\ncpu0 1 2 3 4 5 6 7 8 9 10\n", 751474 + 1 + 250435 + 3 + 32555 + 119, false},
		{"after other lines", "intr 5\ncpu  10 20 30 40 50 60 70 80\n", 10 + 20 + 30 + 60 + 70 + 80, false},
		{"old kernel, 4 counters", "cpu 1 2 3 4\n", 6, false},
		{"cpuN is not cpu", "cpu0 1 2 3 4 5 6 7 8\n", 0, true},
		{"too short", "cpu 1 2 3\n", 0, true},
		{"not a number", "cpu 1 x 3 4 5 6 7 8\n", 0, true},
		{"empty", "", 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseStat(bufio.NewScanner(strings.NewReader(c.in)))
			if (err != nil) != c.wantErr || got != c.want {
				t.Errorf("got %d, %v; want %d, error %v", got, err, c.want, c.wantErr)
			}
		})
	}
}

func TestTicksToDuration(t *testing.T) {
	cases := []struct {
		ticks, hz uint64
		want      time.Duration
	}{
		{0, 100, 0},
		{1, 100, 10 * time.Millisecond},
		{250, 100, 2500 * time.Millisecond},
		{3, 0, 30 * time.Millisecond}, // 0 Hz: the default
		{7, 1000, 7 * time.Millisecond},
		{20_000_000_000, 100, 200_000_000 * time.Second}, // ticks×1e9 would overflow
	}
	for _, c := range cases {
		if got := ticksToDuration(c.ticks, c.hz); got != c.want {
			t.Errorf("ticksToDuration(%d, %d) = %v, want %v", c.ticks, c.hz, got, c.want)
		}
	}
}

func auxv(word int, kv ...uint64) []byte {
	var b []byte
	for _, v := range kv {
		if word == 4 {
			b = binary.NativeEndian.AppendUint32(b, uint32(v))
		} else {
			b = binary.NativeEndian.AppendUint64(b, v)
		}
	}
	return b
}

func TestParseAuxv(t *testing.T) {
	cases := []struct {
		name string
		word int
		in   []byte
		want uint64
	}{
		{"64-bit", 8, auxv(8, 6, 4096, atClkTck, 100, 0, 0), 100},
		{"32-bit", 4, auxv(4, 6, 4096, atClkTck, 250, 0, 0), 250},
		{"after AT_NULL ignored", 8, auxv(8, 6, 4096, 0, 0, atClkTck, 100), 0},
		{"absent", 8, auxv(8, 6, 4096, 0, 0), 0},
		{"truncated", 8, auxv(8, 6, 4096, atClkTck)[:20], 0},
		{"empty", 8, nil, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := parseAuxv(c.in, c.word, atClkTck); got != c.want {
				t.Errorf("got %d, want %d", got, c.want)
			}
		})
	}
}

func TestPinning(t *testing.T) {
	cases := []struct {
		cores, client, server int
		desc                  string
	}{
		{-1, -1, -1, "not pinned (0 CPUs)"},
		{0, -1, -1, "not pinned (0 CPUs)"},
		{1, -1, -1, "not pinned (1 CPU)"},
		{2, 1, 0, "client CPU 1, server CPU 0"},
		{8, 7, 6, "client CPU 7, server CPU 6"},
	}
	for _, c := range cases {
		client, server, desc := Pinning(c.cores)
		if client != c.client || server != c.server || desc != c.desc {
			t.Errorf("Pinning(%d) = %d, %d, %q; want %d, %d, %q", c.cores, client, server, desc, c.client, c.server, c.desc)
		}
	}
}

func TestRudderVersion(t *testing.T) {
	rev := "0123456789abcdef0123456789abcdef01234567"
	bi := func(version string, settings ...string) *debug.BuildInfo {
		b := &debug.BuildInfo{Main: debug.Module{Path: "rudder", Version: version}}
		for i := 0; i+1 < len(settings); i += 2 {
			b.Settings = append(b.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return b
	}
	cases := []struct {
		name string
		in   *debug.BuildInfo
		want string
	}{
		{"nil", nil, "unknown (no build information)"},
		{"devel, no vcs", bi("(devel)"), "devel (no VCS information)"},
		{"commit", bi("(devel)", "vcs.revision", rev, "vcs.modified", "false"), "commit 0123456789ab"},
		{"dirty", bi("", "vcs.revision", rev, "vcs.modified", "true"), "commit 0123456789ab-dirty"},
		{"version and commit", bi("v0.0.0-20261126-0123456789ab", "vcs.revision", rev), "v0.0.0-20261126-0123456789ab (commit 0123456789ab)"},
		{"version only", bi("v1.2.3"), "v1.2.3"},
		{"short revision", bi("", "vcs.revision", "abc"), "commit abc"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := rudderVersion(c.in); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

// TestLive reads this machine.
func TestLive(t *testing.T) {
	m := Machine()
	t.Logf("%+v", m)
	if m.Cores != runtime.NumCPU() || m.Kernel == "unknown" || m.GoVersion == "" || m.CPUModel == "" || m.Pinning == "" || m.Rudder == "" {
		t.Errorf("machine %+v", m)
	}
	if hz := userHZ(); hz != defaultUserHZ {
		t.Logf("USER_HZ is %d", hz)
	}
	a, err := CPUTime()
	if err != nil {
		t.Fatal(err)
	}
	end := time.Now().Add(50 * time.Millisecond)
	for time.Now().Before(end) { // burn some CPU
	}
	b, err := CPUTime()
	if err != nil {
		t.Fatal(err)
	}
	if a <= 0 || b-a < 20*time.Millisecond {
		t.Errorf("CPU time %v then %v: want it to grow by the ~50ms burnt", a, b)
	}
}
