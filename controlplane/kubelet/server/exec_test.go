package server

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/utils/exec"
)

// executors returns client-go's executors for the exec URL: WebSocket
// (v5.channel.k8s.io, kubectl's default) and SPDY (v4 and older).
func executors(t *testing.T, e *env, query string) map[string]remotecommand.Executor {
	t.Helper()
	u, err := url.Parse("https://" + e.addr + "/exec/default/web/app?" + query)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := remotecommand.NewWebSocketExecutor(e.restConfig(), "GET", u.String())
	if err != nil {
		t.Fatal(err)
	}
	sp, err := remotecommand.NewSPDYExecutor(e.restConfig(), "POST", u)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]remotecommand.Executor{"websocket": ws, "spdy": sp}
}

type fixedSize struct{ sent bool }

func (f *fixedSize) Next() *remotecommand.TerminalSize {
	if f.sent {
		return nil // no more resizes
	}
	f.sent = true
	return &remotecommand.TerminalSize{Width: 80, Height: 24}
}

func TestExec(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name       string
		query      string
		stdin      string
		tty        bool
		wantOut    string
		wantErrOut string
		wantCode   int // 0: success, -1: other error
	}{
		{name: "stdin to stdout", query: "command=cat&stdin=true&stdout=true&stderr=true", stdin: "hello\nworld\n", wantOut: "hello\nworld\n"},
		{name: "stderr", query: "command=err&command=oops&command=now&stdout=true&stderr=true", wantErrOut: "oops now"},
		{name: "exit code", query: "command=exit&command=3&stdout=true&stderr=true", wantCode: 3},
		{name: "kubelet parameter names", query: "command=cat&input=1&output=1", stdin: "x", wantOut: "x"},
		{name: "tty resize", query: "command=size&stdin=true&stdout=true&tty=true", tty: true, wantOut: "80x24"},
		{name: "provider error", query: "command=nosuch&stdout=true", wantCode: -1},
	}
	for _, tc := range tests {
		for proto, ex := range executors(t, e, tc.query) {
			t.Run(tc.name+"/"+proto, func(t *testing.T) {
				var out, errOut bytes.Buffer
				opts := remotecommand.StreamOptions{Stdout: &out, Tty: tc.tty}
				if strings.Contains(tc.query, "stdin=true") || strings.Contains(tc.query, "input=1") {
					opts.Stdin = strings.NewReader(tc.stdin)
				}
				if strings.Contains(tc.query, "stderr=true") {
					opts.Stderr = &errOut
				}
				if tc.tty {
					opts.TerminalSizeQueue = &fixedSize{}
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				err := ex.StreamWithContext(ctx, opts)
				var exitErr utilexec.ExitError
				switch {
				case tc.wantCode > 0:
					if !errors.As(err, &exitErr) || exitErr.ExitStatus() != tc.wantCode {
						t.Fatalf("error %v, want exit code %d", err, tc.wantCode)
					}
				case tc.wantCode < 0:
					if err == nil || errors.As(err, &exitErr) {
						t.Fatalf("error %v, want a non-exit error", err)
					}
				case err != nil:
					t.Fatalf("exec: %v", err)
				}
				if out.String() != tc.wantOut || errOut.String() != tc.wantErrOut {
					t.Errorf("stdout %q stderr %q, want %q %q", out.String(), errOut.String(), tc.wantOut, tc.wantErrOut)
				}
			})
		}
	}
}

func TestExecRejected(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		path string
		want int
	}{
		{"/exec/default/nope/app?command=cat&stdout=true", http.StatusNotFound},
		{"/exec/default/web/nope?command=cat&stdout=true", http.StatusNotFound},
		{"/exec/default/web/app?stdout=true", http.StatusBadRequest},
		{"/exec/default/web/app?command=cat", http.StatusBadRequest},
		{"/exec/default/web/app?command=cat&stdout=maybe", http.StatusBadRequest},
	}
	for _, tc := range tests {
		code, body := e.do(t, e.client(t, e.certFile, e.keyFile), "POST", tc.path)
		if code != tc.want {
			t.Errorf("%s: %d %q, want %d", tc.path, code, body, tc.want)
		}
	}
	// Through client-go, an unknown pod is an upgrade failure naming 404.
	u, _ := url.Parse("https://" + e.addr + "/exec/default/nope/app?command=cat&stdout=true")
	ws, err := remotecommand.NewWebSocketExecutor(e.restConfig(), "GET", u.String())
	if err != nil {
		t.Fatal(err)
	}
	err = ws.StreamWithContext(context.Background(), remotecommand.StreamOptions{Stdout: &bytes.Buffer{}})
	if err == nil || !strings.Contains(err.Error(), "404") && !strings.Contains(err.Error(), "not found") {
		t.Errorf("websocket exec on unknown pod: %v, want a 404", err)
	}
}
