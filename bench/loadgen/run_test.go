package loadgen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"rudder/netexec"
)

// echoServer is a line echo on loopback; answer maps each line to the
// reply (nil: echo). It is closed in t.Cleanup.
func echoServer(t *testing.T, answer func(string) string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Go(func() {
				defer func() { mu.Lock(); delete(conns, c); mu.Unlock(); _ = c.Close() }()
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					out := sc.Text()
					if answer != nil {
						out = answer(out)
					}
					if _, err := c.Write([]byte(out + "\n")); err != nil {
						return
					}
				}
			})
		}
	})
	return ln.Addr().String()
}

func checkResult(t *testing.T, res Result, mode Mode) {
	t.Helper()
	t.Logf("%s: %+v", mode, res)
	if res.Mode != mode || res.Transactions < 100 || res.Errors != 0 {
		t.Errorf("result %+v: want mode %s, ≥100 transactions, no errors", res, mode)
	}
	if !(res.P50 > 0 && res.P50 <= res.P90 && res.P90 <= res.P99 && res.P99 <= res.Max && res.Mean > 0 && res.Mean <= res.Max) {
		t.Errorf("latencies out of order: %+v", res)
	}
	if res.Seconds <= 0 || res.Rate <= 0 {
		t.Errorf("seconds %v, rate %v", res.Seconds, res.Rate)
	}
}

func TestRunLoopback(t *testing.T) {
	target := echoServer(t, nil)
	for _, c := range []struct {
		mode        Mode
		concurrency int
	}{{RR, 1}, {RR, 2}, {CRR, 1}, {CRR, 2}} {
		t.Run(fmt.Sprintf("%s-x%d", c.mode, c.concurrency), func(t *testing.T) {
			res, err := Run(t.Context(), Config{Target: target, Mode: c.mode, Duration: 400 * time.Millisecond,
				Warmup: 100 * time.Millisecond, Concurrency: c.concurrency})
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, res, c.mode)
			if res.Concurrency != c.concurrency {
				t.Errorf("concurrency %d, want %d", res.Concurrency, c.concurrency)
			}
		})
	}
}

// TestRunNetexec runs against the real workload; CRR runs 3 s flat out to
// show that closing does not exhaust ephemeral ports.
func TestRunNetexec(t *testing.T) {
	srv, err := netexec.New(netexec.Config{HTTPAddr: "127.0.0.1:0", TCPAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("netexec: %v", err)
		}
	})
	target := srv.TCPAddr().String()
	for _, c := range []struct {
		mode Mode
		d    time.Duration
	}{{CRR, 3 * time.Second}, {RR, 500 * time.Millisecond}} { // CRR first: RR's graceful close leaves one TIME_WAIT
		t.Run(string(c.mode), func(t *testing.T) {
			res, err := Run(t.Context(), Config{Target: target, Mode: c.mode, Duration: c.d, Warmup: 200 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, res, c.mode)
			if c.mode == CRR {
				checkNoTimeWait(t, target)
			}
		})
	}
}

// checkNoTimeWait asserts that CRR's abortive close left no connection to
// target in TIME_WAIT, which is what keeps long runs from running out of
// ephemeral ports in a namespace where tcp_tw_reuse does not apply.
func checkNoTimeWait(t *testing.T, target string) {
	t.Helper()
	if _, err := exec.LookPath("ss"); err != nil {
		t.Skip("no ss:", err)
	}
	_, port, _ := net.SplitHostPort(target)
	out, err := exec.Command("ss", "-Htan", "state", "time-wait", "dport = :"+port).CombinedOutput()
	if err != nil {
		t.Fatalf("ss: %v: %s", err, out)
	}
	if n := strings.Count(string(out), "\n"); n > 0 {
		t.Errorf("%d connections to %s in TIME_WAIT after a CRR run", n, target)
	}
}

func TestRunCountsErrors(t *testing.T) {
	n := 0
	var mu sync.Mutex
	// Every third answer is wrong.
	target := echoServer(t, func(s string) string {
		mu.Lock()
		defer mu.Unlock()
		n++
		if n%3 == 0 {
			return "wrong"
		}
		return s
	})
	res, err := Run(t.Context(), Config{Target: target, Mode: RR, Duration: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors == 0 || res.Transactions == 0 || !strings.Contains(res.FirstError, "wrong") {
		t.Errorf("want both errors and transactions, and the first error: %+v", res)
	}
}

func TestRunNothingSucceeds(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := ln.Addr().String()
	_ = ln.Close() // now refused
	for _, mode := range []Mode{RR, CRR} {
		res, err := Run(t.Context(), Config{Target: target, Mode: mode, Duration: 100 * time.Millisecond})
		if err == nil || res.Errors == 0 || res.Transactions != 0 {
			t.Errorf("%s against a closed port: %+v, %v; want an error and counted failures", mode, res, err)
		}
	}
}

func TestRunTimeout(t *testing.T) {
	// The server reads but never answers.
	target := echoServer(t, func(string) string { time.Sleep(time.Second); return "" })
	start := time.Now()
	_, err := Run(t.Context(), Config{Target: target, Mode: RR, Duration: 100 * time.Millisecond, Timeout: 50 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Errorf("want a no-success error naming the timeout, got %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("run took %v", time.Since(start))
	}
}

func TestRunCancelled(t *testing.T) {
	target := echoServer(t, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err := Run(ctx, Config{Target: target, Mode: CRR, Duration: 10 * time.Second})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("want the context's error, got %v", err)
	}
}
