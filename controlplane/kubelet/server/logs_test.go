package server

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseLogQuery(t *testing.T) {
	now := time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		query   string
		wantErr string
		check   func(logQuery) bool
	}{
		{query: "", check: func(q logQuery) bool { return q.tail == -1 && !q.follow && q.opts.Since.IsZero() }},
		{query: "follow=true&previous=1&timestamps=true", check: func(q logQuery) bool { return q.follow && q.previous && q.opts.Timestamps }},
		{query: "tailLines=0", check: func(q logQuery) bool { return q.tail == 0 }},
		{query: "sinceSeconds=60", check: func(q logQuery) bool { return q.opts.Since.Equal(now.Add(-time.Minute)) }},
		{query: "sinceTime=2026-11-26T14:00:00Z", check: func(q logQuery) bool { return q.opts.Since.Equal(now.Add(-time.Hour)) }},
		{query: "limitBytes=10", check: func(q logQuery) bool { return q.opts.LimitBytes == 10 }},
		{query: "follow=yes", wantErr: "follow must be true or false"},
		{query: "tailLines=-1", wantErr: "tailLines"},
		{query: "tailLines=x", wantErr: "tailLines"},
		{query: "sinceSeconds=0", wantErr: "sinceSeconds"},
		{query: "sinceTime=yesterday", wantErr: "sinceTime"},
		{query: "sinceTime=2026-11-26T14:00:00Z&sinceSeconds=5", wantErr: "at most one"},
		{query: "limitBytes=0", wantErr: "limitBytes"},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			v, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			q, err := parseLogQuery(v, now)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(q) {
				t.Errorf("unexpected %+v", q)
			}
		})
	}
}

// logLine is a CRI log line at second s.
func logLine(s int, stream, tag, content string) string {
	return fmt.Sprintf("2026-11-26T15:00:%02dZ %s %s %s\n", s, stream, tag, content)
}

func writeLog(t *testing.T, path string, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(strings.Join(lines, "")); err != nil {
		t.Fatal(err)
	}
}

func TestLogs(t *testing.T) {
	e := newEnv(t)
	writeLog(t, filepath.Join(e.p.dir, "app-0.log"), logLine(0, "stdout", "F", "old instance"))
	writeLog(t, filepath.Join(e.p.dir, "app-1.log"),
		logLine(1, "stdout", "F", "one"),
		logLine(2, "stderr", "P", "t"),
		logLine(2, "stderr", "F", "wo"),
		logLine(3, "stdout", "F", "three"),
	)
	tests := []struct {
		query string
		code  int
		want  string
	}{
		{"", 200, "one\ntwo\nthree\n"},
		{"?timestamps=true&tailLines=1", 200, "2026-11-26T15:00:03Z three\n"},
		{"?tailLines=2", 200, "two\nthree\n"},
		{"?sinceTime=2026-11-26T15:00:02Z", 200, "two\nthree\n"},
		{"?limitBytes=6", 200, "one\ntw"},
		{"?previous=true", 200, "old instance\n"},
		{"?follow=false&sinceSeconds=1", 200, ""},
		{"?tailLines=abc", 400, "tailLines must be a non-negative integer"},
		{"?sinceSeconds=1&sinceTime=2026-11-26T15:00:02Z", 400, "at most one"},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			code, body := e.get(t, "/containerLogs/default/web/app"+tc.query)
			if code != tc.code || (code == 200 && body != tc.want) || (code != 200 && !strings.Contains(body, tc.want)) {
				t.Errorf("got %d %q, want %d %q", code, body, tc.code, tc.want)
			}
		})
	}
	for _, path := range []string{
		"/containerLogs/default/nope/app",
		"/containerLogs/other/web/app",
		"/containerLogs/default/web/nope",
		"/containerLogs/default/web/sidecar", // known container, no log file yet
	} {
		if code, body := e.get(t, path); code != http.StatusNotFound {
			t.Errorf("%s: %d %q, want 404", path, code, body)
		}
	}
}

// followLog starts a followed log request and returns its lines as they
// arrive; the channel closes when the response ends.
func followLog(t *testing.T, e *env, query string) <-chan string {
	t.Helper()
	c := e.client(t, e.certFile, e.keyFile)
	resp, err := c.Get("https://" + e.addr + "/containerLogs/default/web/app?follow=true" + query)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return lines
}

func expectLine(t *testing.T, lines <-chan string, want string) {
	t.Helper()
	select {
	case got, ok := <-lines:
		if !ok {
			t.Fatalf("stream ended, want %q", want)
		}
		if got != want {
			t.Fatalf("line %q, want %q", got, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %q", want)
	}
}

func expectEnd(t *testing.T, lines <-chan string) {
	t.Helper()
	select {
	case got, ok := <-lines:
		if ok {
			t.Fatalf("unexpected line %q, want end of stream", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("follow did not end")
	}
}

func TestLogsFollowUntilExit(t *testing.T) {
	e := newEnv(t)
	path := filepath.Join(e.p.dir, "app-1.log")
	writeLog(t, path, logLine(1, "stdout", "F", "first"), logLine(2, "stdout", "F", "second"))
	lines := followLog(t, e, "&tailLines=1&timestamps=true")
	expectLine(t, lines, "2026-11-26T15:00:02Z second")
	writeLog(t, path, logLine(3, "stdout", "P", "thi"))
	writeLog(t, path, logLine(3, "stdout", "F", "rd"))
	expectLine(t, lines, "2026-11-26T15:00:03Z third")
	// The container exits right after its last line: the line is still sent.
	writeLog(t, path, logLine(4, "stderr", "F", "last words"))
	e.p.setRunning(false)
	expectLine(t, lines, "2026-11-26T15:00:04Z last words")
	expectEnd(t, lines)
}

func TestLogsFollowStopsAtRestart(t *testing.T) {
	e := newEnv(t)
	path := filepath.Join(e.p.dir, "app-1.log")
	writeLog(t, path, logLine(1, "stdout", "F", "first"))
	lines := followLog(t, e, "")
	expectLine(t, lines, "first")
	writeLog(t, path, logLine(2, "stdout", "F", "before restart"))
	writeLog(t, filepath.Join(e.p.dir, "app-2.log"), logLine(3, "stdout", "F", "new instance"))
	e.p.restart()
	expectLine(t, lines, "before restart")
	expectEnd(t, lines)
}

func TestLogsFollowLimit(t *testing.T) {
	e := newEnv(t)
	path := filepath.Join(e.p.dir, "app-1.log")
	writeLog(t, path, logLine(1, "stdout", "F", "12345"))
	lines := followLog(t, e, "&limitBytes=10")
	expectLine(t, lines, "12345")
	writeLog(t, path, logLine(2, "stdout", "F", "6789abcdef"))
	expectLine(t, lines, "6789")
	expectEnd(t, lines)
}

func TestLogsFollowClientGone(t *testing.T) {
	e := newEnv(t)
	path := filepath.Join(e.p.dir, "app-1.log")
	writeLog(t, path, logLine(1, "stdout", "F", "x"))
	c := e.client(t, e.certFile, e.keyFile)
	resp, err := c.Get("https://" + e.addr + "/containerLogs/default/web/app?follow=true")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2)
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// The handler returns once the client is gone: it is counted then.
	want := `rudder_kubelet_server_requests_total{code="200",handler="containerLogs",method="get"} 1`
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, body := e.get(t, "/metrics")
		if strings.Contains(body, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("followed log handler still running after the client went away")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
