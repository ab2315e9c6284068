package netexec

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const testHost = "pod-a"

// running is a Server under test.
type running struct {
	srv    *Server
	cancel context.CancelFunc
	done   chan error
	base   string
}

// testLog writes to the test's output until the test ends, then drops:
// a handler whose request outlived the graceful period may still log
// after Run returned, and testing forbids output after a test completes.
type testLog struct {
	mu   sync.Mutex
	w    io.Writer
	done bool
}

func untilDone(t *testing.T) *testLog {
	l := &testLog{w: t.Output()}
	t.Cleanup(func() {
		l.mu.Lock()
		l.done = true
		l.mu.Unlock()
	})
	return l
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done {
		return len(p), nil
	}
	return l.w.Write(p)
}

func start(t *testing.T, cfg Config) *running {
	t.Helper()
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.Hostname = testHost
	cfg.Logger = slog.New(slog.NewTextHandler(untilDone(t), &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{srv: srv, cancel: cancel, done: make(chan error, 1), base: "http://" + srv.HTTPAddr().String()}
	go func() { r.done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(10 * time.Second):
			t.Error("server did not stop")
		}
	})
	return r
}

// get fetches path on a new connection.
func (r *running) get(t *testing.T, path string) (int, string, error) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(r.base + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func (r *running) mustGet(t *testing.T, path string) (int, string) {
	t.Helper()
	code, body, err := r.get(t, path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return code, body
}

func (r *running) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("server did not stop")
		return nil
	}
}

func TestHTTPEndpoints(t *testing.T) {
	r := start(t, Config{})
	tests := []struct {
		path     string
		wantCode int
		wantBody string // a prefix
	}{
		{"/hostname", 200, testHost},
		{"/hostname?delay=0s", 200, testHost},
		{"/echo?msg=hello%20world", 200, "hello world"},
		{"/echo", 200, ""},
		{"/echo?msg=teapot&code=418", 418, "teapot"},
		{"/echo?code=99", 400, `bad code "99"`},
		{"/healthz", 200, "ok"},
		{"/", 200, "netexec endpoints"},
		{"/nope", 404, "404 page not found"},
		{"/hostname?delay=soon", 400, `bad delay "soon"`},
		{"/hostname?delay=-1s", 400, `bad delay "-1s"`},
		{"/exit?code=300", 400, `bad code "300"`},
		{"/exit", 400, `bad code ""`},
		{"/dial?port=80", 400, "dial: host and port are required"},
		{"/dial?host=127.0.0.1&port=0", 400, `dial: bad port "0"`},
		{"/dial?host=127.0.0.1&port=80&protocol=sctp", 400, `dial: bad protocol "sctp"`},
		{"/dial?host=127.0.0.1&port=80&tries=0", 400, `dial: bad tries "0"`},
		{"/bytes/0", 200, ""},
		{"/bytes/x", 400, `bad size "x"`},
		{"/bytes/-1", 400, `bad size "-1"`},
		{"/bytes/1048577", 400, `bad size "1048577"`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			code, body := r.mustGet(t, tt.path)
			if code != tt.wantCode || !strings.HasPrefix(body, tt.wantBody) {
				t.Errorf("got %d %q, want %d %q...", code, body, tt.wantCode, tt.wantBody)
			}
			if tt.wantBody == testHost && body != testHost {
				t.Errorf("hostname %q has extra bytes", body)
			}
		})
	}
}

func TestBytes(t *testing.T) {
	r := start(t, Config{})
	for _, n := range []int{1, 63, 64, 1024, 1000, 1 << 20} {
		code, body := r.mustGet(t, "/bytes/"+strconv.Itoa(n))
		if code != 200 || len(body) != n {
			t.Errorf("/bytes/%d: got %d with %d bytes", n, code, len(body))
		}
		if n >= 64 && body[:64] != bytesChunk {
			t.Errorf("/bytes/%d starts %q, want the chunk", n, body[:64])
		}
	}
}

func TestClientIP(t *testing.T) {
	r := start(t, Config{})
	c, err := net.Dial("tcp", r.srv.HTTPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req, _ := http.NewRequest(http.MethodGet, r.base+"/clientip", nil)
	if err := req.Write(c); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if got, want := string(b), c.LocalAddr().String(); got != want {
		t.Errorf("clientip %q, want %q", got, want)
	}
}

func TestDelay(t *testing.T) {
	r := start(t, Config{})
	for _, path := range []string{"/hostname?delay=200ms", "/echo?msg=x&delay=200ms", "/healthz?delay=200ms"} {
		begin := time.Now()
		if code, _ := r.mustGet(t, path); code != 200 {
			t.Errorf("%s: status %d", path, code)
		}
		if d := time.Since(begin); d < 200*time.Millisecond {
			t.Errorf("%s answered after %s, want at least 200ms", path, d)
		}
	}
}

func TestHealthzToggle(t *testing.T) {
	r := start(t, Config{})
	steps := []struct{ path, wantBody string }{
		{"/healthz", "ok"},
		{"/healthz/fail", "healthz now failing"},
		{"/healthz", "failing"},
		{"/healthz/fail", "healthz now failing"},
		{"/healthz", "failing"},
		{"/healthz/ok", "healthz now ok"},
		{"/healthz", "ok"},
	}
	for _, s := range steps {
		code, body := r.mustGet(t, s.path)
		wantCode := 200
		if s.wantBody == "failing" {
			wantCode = 503
		}
		if code != wantCode || body != s.wantBody {
			t.Errorf("%s: got %d %q, want %d %q", s.path, code, body, wantCode, s.wantBody)
		}
	}
}

func TestExit(t *testing.T) {
	tests := []struct {
		path     string
		wantCode int // 0: Run returns nil
	}{
		{"/exit?code=3", 3},
		{"/exit?code=0", 0},
		{"/shutdown", 0},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := start(t, Config{GracefulShutdown: time.Minute, UDPAddr: "127.0.0.1:0", TCPAddr: "127.0.0.1:0"})
			code, body := r.mustGet(t, tt.path)
			if code != 200 || !strings.HasPrefix(body, "exiting with code") {
				t.Errorf("got %d %q", code, body)
			}
			err := r.wait(t)
			var ee *ExitError
			switch {
			case tt.wantCode == 0 && err != nil:
				t.Errorf("Run: %v, want nil", err)
			case tt.wantCode != 0 && (!errors.As(err, &ee) || ee.Code != tt.wantCode):
				t.Errorf("Run: %v, want exit code %d", err, tt.wantCode)
			}
			if _, _, err := r.get(t, "/hostname"); err == nil {
				t.Error("server still answers after exit")
			}
		})
	}
}

func TestGracefulShutdown(t *testing.T) {
	const grace = 700 * time.Millisecond
	r := start(t, Config{GracefulShutdown: grace, TCPAddr: "127.0.0.1:0"})
	type result struct {
		code int
		body string
		err  error
	}
	inflight := make(chan result, 1)
	go func() {
		code, body, err := r.get(t, "/echo?msg=drained&delay=1s")
		inflight <- result{code, body, err}
	}()
	time.Sleep(100 * time.Millisecond) // let the slow request arrive
	begin := time.Now()
	r.cancel()
	time.Sleep(50 * time.Millisecond)

	if code, body := r.mustGet(t, "/healthz"); code != 503 || body != "shutting down" {
		t.Errorf("healthz while draining: %d %q", code, body)
	}
	if code, body := r.mustGet(t, "/hostname"); code != 200 || body != testHost {
		t.Errorf("new request while draining: %d %q", code, body)
	}
	if got := tcpExchange(t, r.srv.TCPAddr().String(), "hostname"); got != testHost {
		t.Errorf("tcp echo while draining: %q", got)
	}
	select {
	case err := <-r.done:
		t.Fatalf("Run returned %v before the graceful period ended", err)
	default:
	}
	if err := r.wait(t); err != nil {
		t.Errorf("Run: %v", err)
	}
	if d := time.Since(begin); d < grace {
		t.Errorf("stopped after %s, want at least %s", d, grace)
	}
	res := <-inflight
	if res.err != nil || res.code != 200 || res.body != "drained" {
		t.Errorf("in-flight request: %d %q %v", res.code, res.body, res.err)
	}
	if _, _, err := r.get(t, "/hostname"); err == nil {
		t.Error("new connection accepted after shutdown")
	}
}

func TestStopAtOnce(t *testing.T) {
	r := start(t, Config{UDPAddr: "127.0.0.1:0"})
	begin := time.Now()
	r.cancel()
	if err := r.wait(t); err != nil {
		t.Errorf("Run: %v", err)
	}
	if d := time.Since(begin); d > 2*time.Second {
		t.Errorf("stop took %s", d)
	}
}

func udpExchange(t *testing.T, addr, msg string) string {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("udp %q: %v", msg, err)
	}
	return string(buf[:n])
}

func tcpExchange(t *testing.T, addr string, lines ...string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	rd := bufio.NewReader(c)
	var out []string
	for _, l := range lines {
		if _, err := io.WriteString(c, l+"\n"); err != nil {
			t.Fatal(err)
		}
		got, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("tcp %q: %v", l, err)
		}
		out = append(out, strings.TrimSuffix(got, "\n"))
	}
	return strings.Join(out, "|")
}

func TestUDPEcho(t *testing.T) {
	r := start(t, Config{UDPAddr: "127.0.0.1:0"})
	addr := r.srv.UDPAddr().String()
	tests := []struct{ in, want string }{
		{"hostname", testHost},
		{"hostname\n", testHost},
		{"echo hi there", "hi there"},
		{"some bytes\x00\x01", "some bytes\x00\x01"},
		{" spaced ", " spaced "},
	}
	for _, tt := range tests {
		if got := udpExchange(t, addr, tt.in); got != tt.want {
			t.Errorf("udp %q: got %q, want %q", tt.in, got, tt.want)
		}
	}
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	_, _ = c.Write([]byte("clientip"))
	buf := make([]byte, 100)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != c.LocalAddr().String() {
		t.Errorf("clientip: %q %v, want %q", buf[:n], err, c.LocalAddr())
	}
	if r.srv.TCPAddr() != nil {
		t.Error("TCP echo on although off")
	}
}

func TestTCPEcho(t *testing.T) {
	r := start(t, Config{TCPAddr: "127.0.0.1:0"})
	got := tcpExchange(t, r.srv.TCPAddr().String(), "hello", "hostname", "echo x y", "", "again")
	if want := "hello|" + testHost + "|x y||again"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if r.srv.UDPAddr() != nil {
		t.Error("UDP echo on although off")
	}
}

func TestDial(t *testing.T) {
	r := start(t, Config{UDPAddr: "127.0.0.1:0", TCPAddr: "127.0.0.1:0", DialTimeout: time.Second})
	_, httpPort, _ := net.SplitHostPort(r.srv.HTTPAddr().String())
	_, udpPort, _ := net.SplitHostPort(r.srv.UDPAddr().String())
	_, tcpPort, _ := net.SplitHostPort(r.srv.TCPAddr().String())
	closed := closedPort(t)
	tests := []struct {
		name      string
		query     string
		want      []string
		wantErrs  int
		errSubstr string
	}{
		{"http default request", "host=127.0.0.1&port=" + httpPort, []string{testHost}, 0, ""},
		{"http echo, 3 tries", "host=127.0.0.1&port=" + httpPort + "&request=echo%3Fmsg%3Dhi&tries=3", []string{"hi", "hi", "hi"}, 0, ""},
		{"http turns healthz off", "host=127.0.0.1&port=" + httpPort + "&request=healthz/fail", []string{"healthz now failing"}, 0, ""},
		{"http 503", "host=127.0.0.1&port=" + httpPort + "&request=healthz", nil, 1, "status 503"},
		{"udp", "host=127.0.0.1&port=" + udpPort + "&protocol=udp&request=hostname&tries=2", []string{testHost, testHost}, 0, ""},
		{"tcp", "host=127.0.0.1&port=" + tcpPort + "&protocol=tcp&request=echo%20x", []string{"x"}, 0, ""},
		{"refused", "host=127.0.0.1&port=" + closed + "&protocol=tcp&tries=2", nil, 2, "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := r.mustGet(t, "/dial?"+tt.query)
			if code != 200 {
				t.Fatalf("status %d: %s", code, body)
			}
			var res DialResult
			if err := json.Unmarshal([]byte(body), &res); err != nil {
				t.Fatalf("decode %q: %v", body, err)
			}
			if strings.Join(res.Responses, ",") != strings.Join(tt.want, ",") || len(res.Errors) != tt.wantErrs {
				t.Errorf("got %+v, want responses %q and %d errors", res, tt.want, tt.wantErrs)
			}
			for _, e := range res.Errors {
				if !strings.Contains(e, tt.errSubstr) {
					t.Errorf("error %q does not mention %q", e, tt.errSubstr)
				}
			}
			if res.Responses == nil || res.Errors == nil {
				t.Errorf("null lists in %s", body)
			}
		})
	}
}

// closedPort returns a loopback TCP port nobody listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	return port
}

func TestNewErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"no http address", Config{}, "netexec: an HTTP address is required"},
		{"negative grace", Config{HTTPAddr: "127.0.0.1:0", GracefulShutdown: -time.Second}, "netexec: graceful shutdown -1s is negative"},
		{"port in use", Config{HTTPAddr: "127.0.0.1:0", TCPAddr: ln.Addr().String()}, "netexec: listen for TCP on " + ln.Addr().String()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Hostname = testHost
			_, err := New(tt.cfg)
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}
