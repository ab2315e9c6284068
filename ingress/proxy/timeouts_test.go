package proxy

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"rudder/ingress/route"
)

// The timeouts below are short so the tests are quick; each test checks
// that a timeout fires, or does not, relative to the others, never how
// fast anything runs.

// clientCase is a way for a test client to reach the proxy.
type clientCase struct {
	name string
	h2   bool // HTTP/2 (over TLS)
	url  string
}

// TestStreamOutlivesReadTimeout: the read timeout bounds a pause in the
// upstream's response, not its length (nginx's proxy_read_timeout). A
// stream that sends every 100 ms runs past a 300 ms timeout, chunked or
// with a Content-Length, over HTTP/1.1 and HTTP/2.
func TestStreamOutlivesReadTimeout(t *testing.T) {
	const events, every = 8, 100 * time.Millisecond
	ep := backend(t, "s", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("length") {
			w.Header().Set("Content-Length", strconv.Itoa(events*len("data: x\n\n")))
		}
		for range events {
			io.WriteString(w, "data: x\n\n")
			w.(http.Flusher).Flush()
			time.Sleep(every)
		}
	})
	tp := startProxy(t, Config{})
	tp.p.Swap(table(backendOf(ep), &route.Policy{ReadTimeout: 300 * time.Millisecond}))
	for _, tc := range []clientCase{
		{"chunked", false, "http://foo.example/events"},
		{"content-length", false, "http://foo.example/events?length"},
		{"TLS", false, "https://foo.example/events"},
		{"HTTP/2", true, "https://foo.example/events?length"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := get(t, tp.client(t, tc.h2), tc.url)
			if r.code != http.StatusOK || r.body != strings.Repeat("data: x\n\n", events) {
				t.Fatalf("got %d %q, want 200 and %d events", r.code, r.body, events)
			}
		})
	}
}

// TestReadTimeoutMidBody: an upstream that stalls in the middle of its
// body, longer than the read timeout, has the response cut there (the
// head is out: all the proxy can do is close the connection), rather
// than holding the client until the upstream resumes.
func TestReadTimeoutMidBody(t *testing.T) {
	const stall = 3 * time.Second
	ep := backend(t, "s", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "20")
		io.WriteString(w, "0123456789")
		w.(http.Flusher).Flush()
		select {
		case <-time.After(stall):
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, "0123456789")
	})
	tp := startProxy(t, Config{})
	tp.p.Swap(table(backendOf(ep), &route.Policy{ReadTimeout: 300 * time.Millisecond}))
	for _, tc := range []clientCase{
		{"HTTP/1.1", false, "http://foo.example/"},
		{"HTTP/2", true, "https://foo.example/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			// HTTP/2 may not have sent the head yet (net/http buffers a
			// response of known length): then the request fails.
			resp, err := tp.client(t, tc.h2).Get(tc.url)
			if err == nil {
				var b []byte
				b, err = io.ReadAll(resp.Body)
				resp.Body.Close()
				if err == nil {
					t.Fatalf("read the whole body %q, want it cut after the stall", b)
				}
				if string(b) != "0123456789" && !tc.h2 {
					t.Errorf("got %q before the cut, want the first 10 bytes", b)
				}
			}
			if d := time.Since(start); d >= stall {
				t.Errorf("cut after %v: the proxy waited for the upstream to resume", d)
			}
		})
	}
}

// TestSlowClient: a client that stops reading a large response loses its
// connection after ClientSendTimeout, and the upstream connection is
// closed with it, instead of both staying held.
func TestSlowClient(t *testing.T) {
	wrote := make(chan error, 1)
	ep := backend(t, "s", func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 64<<10)
		for range 1024 { // 64 MiB: more than every buffer on the way
			if _, err := w.Write(buf); err != nil {
				wrote <- err
				return
			}
		}
		wrote <- nil
	})
	tp := startProxy(t, Config{ClientSendTimeout: 300 * time.Millisecond})
	tp.p.Swap(table(backendOf(ep), &route.Policy{}))
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var err error
		rc.Control(func(fd uintptr) { err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return err
	}}
	c, err := d.Dial("tcp", tp.httpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET /big HTTP/1.1\r\nHost: foo.example\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	// Never read: the proxy's writes block once the buffers are full.
	select {
	case err := <-wrote:
		if err == nil {
			t.Fatal("the backend wrote all 64 MiB to a client that reads nothing")
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the upstream connection is still held 15 s after the client stopped reading")
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, c); err != nil && !isConnReset(err) {
		t.Errorf("reading what is left: %v, want the connection closed", err)
	}
}

// blackhole is a loopback address whose listener never accepts and whose
// accept queue is full, so a new connection's SYN goes unanswered: a
// connect there times out.
func blackhole(t *testing.T) netip.AddrPort {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	ap := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(sa.(*syscall.SockaddrInet4).Port))
	// Fill the accept queue (a backlog of 0 holds one connection); the
	// connection that then does not complete proves it is full.
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", ap.String(), 200*time.Millisecond)
		if err != nil {
			break
		}
		t.Cleanup(func() { c.Close() })
		if i == 8 {
			t.Fatal("the listener keeps accepting connections into its queue")
		}
	}
	return ap
}

// TestConnectTimeout: an endpoint that does not answer the connect gets
// a 504 after the route's connect timeout.
func TestConnectTimeout(t *testing.T) {
	ep := blackhole(t)
	tp := startProxy(t, Config{})
	tp.p.Swap(table(backendOf(ep), &route.Policy{ConnectTimeout: 300 * time.Millisecond, ReadTimeout: 10 * time.Second}))
	start := time.Now()
	r := get(t, tp.client(t, false), "http://foo.example/")
	if r.code != http.StatusGatewayTimeout {
		t.Fatalf("got %d %q, want 504", r.code, r.body)
	}
	if d := time.Since(start); d >= 5*time.Second {
		t.Errorf("504 after %v: not the 300 ms connect timeout", d)
	}
}

// TestClientTimeouts: a client that sends half a head loses its
// connection after ReadHeaderTimeout, and an idle keep-alive connection
// is closed after IdleTimeout.
func TestClientTimeouts(t *testing.T) {
	tp := startProxy(t, Config{ReadHeaderTimeout: 300 * time.Millisecond, IdleTimeout: 300 * time.Millisecond})
	tp.p.Swap(table(backendOf(backend(t, "b", nil)), &route.Policy{}))
	closedWithin := func(c net.Conn, d time.Duration) error {
		start := time.Now()
		c.SetReadDeadline(start.Add(d))
		_, err := io.Copy(io.Discard, c)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return fmt.Errorf("still open after %v", d)
		}
		return nil
	}
	t.Run("read header", func(t *testing.T) {
		c, err := net.Dial("tcp", tp.httpAddr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: foo.exa")
		if err := closedWithin(c, 5*time.Second); err != nil {
			t.Error(err)
		}
	})
	t.Run("idle", func(t *testing.T) {
		c, err := net.Dial("tcp", tp.httpAddr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: foo.example\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d, want 200", resp.StatusCode)
		}
		if err := closedWithin(c, 5*time.Second); err != nil {
			t.Error(err)
		}
	})
}

// TestSendTimeoutNotLeftOnIdleConnection: the write deadline of one
// response does not outlive it. A keep-alive connection idle longer than
// ClientSendTimeout still gets net/http's own answers, here the 431 for
// a head past MaxHeaderBytes, which no handler writes (on the wire path,
// the connection is handed to net/http with the deadline it last set).
func TestSendTimeoutNotLeftOnIdleConnection(t *testing.T) {
	tp := startProxy(t, Config{ClientSendTimeout: 200 * time.Millisecond, MaxHeaderBytes: 1024})
	tp.p.Swap(table(backendOf(backend(t, "b", nil)), &route.Policy{}))
	c, err := net.Dial("tcp", tp.httpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	read := func() int {
		t.Helper()
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("reading the response: %v", err)
		}
		io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: foo.example\r\n\r\n")
	if code := read(); code != http.StatusOK {
		t.Fatalf("first request: %d, want 200", code)
	}
	time.Sleep(400 * time.Millisecond) // past the first response's deadline
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: foo.example\r\nX-Big: "+strings.Repeat("x", 64<<10)+"\r\n\r\n")
	if code := read(); code != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("second request: %d, want 431", code)
	}
}
