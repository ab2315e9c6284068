package sysinfo

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// defaultUserHZ is USER_HZ, the unit of /proc/stat, on every Linux
// architecture Go runs on; the auxiliary vector's AT_CLKTCK confirms it.
const defaultUserHZ = 100

// atClkTck is the auxiliary vector entry holding USER_HZ.
const atClkTck = 17

// CPUTime is the machine-wide busy CPU time since boot, all cores summed:
// user, nice, system, irq, softirq and steal from /proc/stat (guest time
// is already inside user). The difference of two calls is the CPU spent
// between them, by everything on the machine.
func CPUTime() (time.Duration, error) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, fmt.Errorf("read CPU time: %w", err)
	}
	defer f.Close()
	ticks, err := parseStat(bufio.NewScanner(f))
	if err != nil {
		return 0, fmt.Errorf("read CPU time from /proc/stat: %w", err)
	}
	return ticksToDuration(ticks, userHZ()), nil
}

// parseStat sums the busy fields of /proc/stat's "cpu" line, in USER_HZ.
func parseStat(sc *bufio.Scanner) (uint64, error) {
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] != "cpu" {
			continue
		}
		if len(f) < 5 {
			return 0, fmt.Errorf("cpu line %q: want at least 4 counters", sc.Text())
		}
		var sum uint64
		// user nice system idle iowait irq softirq steal guest guest_nice
		for _, i := range []int{1, 2, 3, 6, 7, 8} {
			if i >= len(f) {
				break // an old kernel without irq/softirq/steal
			}
			v, err := strconv.ParseUint(f[i], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("cpu line field %d: %w", i, err)
			}
			sum += v
		}
		return sum, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New(`no "cpu" line`)
}

// ticksToDuration converts clock ticks at hz per second without
// overflowing on large machines with long uptimes.
func ticksToDuration(ticks uint64, hz uint64) time.Duration {
	if hz == 0 {
		hz = defaultUserHZ
	}
	return time.Duration(ticks/hz)*time.Second + time.Duration(ticks%hz)*time.Second/time.Duration(hz)
}

// userHZ reads USER_HZ from this process's auxiliary vector.
func userHZ() uint64 {
	b, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return defaultUserHZ
	}
	if hz := parseAuxv(b, strconv.IntSize/8, atClkTck); hz > 0 {
		return hz
	}
	return defaultUserHZ
}

// parseAuxv returns the value of key in an auxiliary vector of native
// words of size word (4 or 8), or 0 when it is absent.
func parseAuxv(b []byte, word int, key uint64) uint64 {
	read := func(p []byte) uint64 {
		if word == 4 {
			return uint64(binary.NativeEndian.Uint32(p))
		}
		return binary.NativeEndian.Uint64(p)
	}
	for ; len(b) >= 2*word; b = b[2*word:] {
		if k := read(b); k == key {
			return read(b[word:])
		} else if k == 0 { // AT_NULL ends the vector
			return 0
		}
	}
	return 0
}
