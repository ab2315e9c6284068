// Package sysinfo describes the machine a benchmark runs on: CPU, kernel,
// versions, busy CPU time and where to pin the two ends of a test.
package sysinfo

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"golang.org/x/sys/unix"

	"rudder/bench/report"
)

// Machine describes this machine and this binary; a part that cannot be
// read says "unknown" rather than failing.
func Machine() report.Machine {
	_, _, pin := Pinning(runtime.NumCPU())
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return report.Machine{
		CPUModel:  cpuModel(),
		Cores:     runtime.NumCPU(),
		Kernel:    kernel(),
		GoVersion: runtime.Version(),
		Rudder:    rudderVersion(bi),
		Pinning:   pin,
	}
}

// Pinning picks the CPUs for the client and the server of a test on a
// machine with cores CPUs: the two highest-numbered ones, away from CPU 0
// where the kernel tends to put interrupts when there are more than two.
// With fewer than two CPUs both are -1: not pinned. desc says what was
// chosen, for the report.
func Pinning(cores int) (client, server int, desc string) {
	switch {
	case cores == 1:
		return -1, -1, "not pinned (1 CPU)"
	case cores < 2:
		return -1, -1, fmt.Sprintf("not pinned (%d CPUs)", max(cores, 0))
	}
	client, server = cores-1, cores-2
	return client, server, fmt.Sprintf("client CPU %d, server CPU %d", client, server)
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown " + runtime.GOARCH
	}
	defer f.Close()
	return parseCPUModel(bufio.NewScanner(f))
}

// cpuModelKeys are the /proc/cpuinfo keys naming the CPU, by preference:
// x86's "model name", then what other architectures use.
var cpuModelKeys = []string{"model name", "cpu model", "Processor", "Hardware", "uarch"}

// parseCPUModel finds the CPU's name in /proc/cpuinfo text.
func parseCPUModel(sc *bufio.Scanner) string {
	found := map[string]string{}
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		k, v = strings.TrimSpace(k), strings.Join(strings.Fields(v), " ")
		if ok && v != "" {
			if _, seen := found[k]; !seen {
				found[k] = v
			}
		}
	}
	for _, k := range cpuModelKeys {
		if v, ok := found[k]; ok {
			return v
		}
	}
	return "unknown " + runtime.GOARCH
}

// kernel is `uname -srm`, e.g. "Linux 6.18.44 x86_64".
func kernel() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Sysname[:]) + " " + unix.ByteSliceToString(u.Release[:]) + " " +
		unix.ByteSliceToString(u.Machine[:])
}

// rudderVersion names the build: its module version when the go command
// stamped one, and its commit ("-dirty" when the tree had changes).
func rudderVersion(bi *debug.BuildInfo) string {
	if bi == nil {
		return "unknown (no build information)"
	}
	version := bi.Main.Version
	if version == "(devel)" {
		version = ""
	}
	var commit string
	var dirty bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value[:min(len(s.Value), 12)]
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if commit != "" && dirty {
		commit += "-dirty"
	}
	switch {
	case version != "" && commit != "":
		return version + " (commit " + commit + ")"
	case commit != "":
		return "commit " + commit
	case version != "":
		return version
	}
	return "devel (no VCS information)"
}

// LoadAvg is the 1-minute load average ("?" when unreadable): a
// benchmark report prints it, since other work on the machine skews the
// numbers.
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}
