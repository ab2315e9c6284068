package progress

import (
	"bytes"
	"strings"
	"testing"
)

func TestLine(t *testing.T) {
	var plain, tty bytes.Buffer
	for _, c := range []struct {
		buf *bytes.Buffer
		tty bool
	}{{&plain, false}, {&tty, true}} {
		p := New(c.buf, c.tty, "dns", "[dns] ")
		p.Step("build %d", 1)
		p.Logf("result %s", "x")
		p.Step("run")
		p.Done()
	}
	if got := plain.String(); !strings.Contains(got, "s] build 1\n") || !strings.Contains(got, "[dns] result x\n") || strings.Contains(got, "\033") {
		t.Errorf("plain output %q", got)
	}
	if got := tty.String(); !strings.Contains(got, "\r\033[K[dns ") || !strings.HasSuffix(got, "run\r\033[K") {
		t.Errorf("terminal output %q", got)
	}
	var nilLine *Line
	nilLine.Step("x") // no panic, nothing written
	New(nil, true, "x", "").Logf("y")
}
