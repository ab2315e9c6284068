package runtime

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCRILogRecords(t *testing.T) {
	long := strings.Repeat("x", MaxLogLine+10)
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{name: "lines", in: "a\nb c\n", want: []string{"stdout F a", "stdout F b c"}},
		{name: "empty line", in: "\n", want: []string{"stdout F "}},
		{name: "no newline at EOF", in: "a\nrest", want: []string{"stdout F a", "stdout P rest"}},
		{name: "long line split", in: long + "\n", want: []string{
			"stdout P " + long[:MaxLogLine], "stdout F " + long[MaxLogLine:]}},
		{name: "nothing", in: "", want: nil},
	} {
		var buf bytes.Buffer
		ts := time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600))
		l := &criLog{w: &buf, now: func() time.Time { return ts }}
		if err := l.copyStream("stdout", strings.NewReader(tc.in)); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var got []string
		for line := range strings.Lines(buf.String()) {
			rest, ok := strings.CutPrefix(line, "2026-01-02T02:04:05.000000006Z ")
			if !ok {
				t.Fatalf("%s: bad timestamp in %q", tc.name, line)
			}
			got = append(got, strings.TrimSuffix(rest, "\n"))
		}
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%s: got %.80q, want %.80q", tc.name, got, tc.want)
		}
	}
}

func TestLogPaths(t *testing.T) {
	dir := t.TempDir()
	if got := LogPath(dir, "ns", "pod", "u1", "c", 2); got != filepath.Join(dir, "ns_pod_u1", "c", "2.log") {
		t.Errorf("LogPath = %s", got)
	}
	if _, _, err := LatestLogs(dir, "ns", "pod", "u1", "c"); err == nil {
		t.Error("no logs: want an error")
	}
	for _, n := range []int{0, 10, 9} {
		p := LogPath(dir, "ns", "pod", "u1", "c", n)
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		_ = os.WriteFile(p, nil, 0o644)
	}
	_ = os.WriteFile(filepath.Join(dir, "ns_pod_u1", "c", "junk.txt"), nil, 0o644)
	cur, prev, err := LatestLogs(dir, "ns", "pod", "u1", "c")
	if err != nil || filepath.Base(cur) != "10.log" || filepath.Base(prev) != "9.log" {
		t.Errorf("LatestLogs = %s, %s, %v", cur, prev, err)
	}
}
