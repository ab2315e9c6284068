package benchcluster

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rudder/bench/benchproc"
)

func fakeBin(t *testing.T, script string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "rudder")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

func TestRudderVersion(t *testing.T) {
	for _, tc := range []struct{ name, script, want string }{
		{"json", `echo '{"gitVersion": "v1.33.0+rudder", "goVersion": "go1.26.8"}'`, "rudder v1.33.0+rudder (go1.26.8)"},
		{"not json", "echo rudder 1", "unknown"},
		{"no gitVersion", `echo '{"goVersion": "go1.26.8"}'`, "unknown"},
		{"fails", "exit 1", "unknown"},
	} {
		if got := RudderVersion(fakeBin(t, tc.script+"\n")); got != tc.want {
			t.Errorf("%s: RudderVersion = %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := RudderVersion(filepath.Join(t.TempDir(), "missing")); got != "unknown" {
		t.Errorf("missing binary: %q", got)
	}
}

func TestStartFails(t *testing.T) {
	g := &benchproc.Group{}
	t.Cleanup(g.StopAll)
	dir := t.TempDir()
	if _, err := Start(context.Background(), g, Config{RudderBin: "x"}); err == nil {
		t.Error("no Dir and LogDir: no error")
	}
	// A server that dies at once: Start reports it with the end of its log.
	bin := fakeBin(t, "echo no such flag >&2\nexit 2\n")
	_, err := Start(context.Background(), g, Config{RudderBin: bin, Dir: dir, LogDir: dir})
	if err == nil || !strings.Contains(err.Error(), "no such flag") || !strings.Contains(err.Error(), "apiserver.log") {
		t.Errorf("dying server: %v", err)
	}
}
