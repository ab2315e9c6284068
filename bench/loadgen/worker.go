package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"time"
)

// request is what each transaction sends; the echo server sends it back.
var request = []byte("x\n")

// errorPause slows a worker down after a failure so a refused or dead
// target does not turn into a busy loop.
const errorPause = time.Millisecond

// window is the measured period: transactions that start in
// [measure, end) are recorded, earlier ones are warm-up.
type window struct{ measure, end time.Time }

// tally is one worker's record; each worker owns its own.
type tally struct {
	samples  []time.Duration
	errors   int
	firstErr error
}

// add records one transaction that started at begin.
func (t *tally) add(w window, begin time.Time, latency time.Duration, err error) {
	if err != nil && t.firstErr == nil {
		t.firstErr = err
	}
	if begin.Before(w.measure) {
		return
	}
	if err != nil {
		t.errors++
		return
	}
	t.samples = append(t.samples, latency)
}

// runWorker does one transaction at a time until the window ends.
func runWorker(ctx context.Context, cfg Config, w window, t *tally) {
	d := &net.Dialer{Timeout: cfg.Timeout}
	var rr net.Conn // RR's connection, re-dialled after a failure
	defer func() {
		if rr != nil {
			_ = rr.Close()
		}
	}()
	for ctx.Err() == nil {
		begin := time.Now()
		if !begin.Before(w.end) {
			return
		}
		var err error
		if cfg.Mode == RR {
			if rr == nil {
				rr, err = d.DialContext(ctx, "tcp", cfg.Target)
				begin = time.Now()
			}
			if err == nil {
				if err = transact(rr, cfg.Timeout); err != nil {
					_ = rr.Close()
					rr = nil
				}
			}
		} else {
			err = connectRequestClose(ctx, d, cfg)
		}
		t.add(w, begin, time.Since(begin), err)
		if err != nil {
			time.Sleep(errorPause)
		}
	}
}

// connectRequestClose is one CRR transaction.
func connectRequestClose(ctx context.Context, d *net.Dialer, cfg Config) error {
	c, err := d.DialContext(ctx, "tcp", cfg.Target)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	err = transact(c, cfg.Timeout)
	if cerr := closeAbort(c); err == nil {
		err = cerr
	}
	return err
}

// closeAbort closes c with SO_LINGER 0, so the kernel sends an RST instead
// of a FIN and neither end keeps the connection in TIME_WAIT. A graceful
// close by the client (which must close first: the echo server closes only
// on EOF) leaves one TIME_WAIT socket per transaction for 60 s; at 10k
// transactions/s the 28k ephemeral ports of a fresh namespace would run out
// after ~3 s, and conntrack on service paths would fill with TIME_WAIT
// entries. The cost: the FIN exchange is not part of the measured latency,
// and the server sees ECONNRESET instead of EOF (netexec ignores it).
func closeAbort(c net.Conn) error {
	if tc, ok := c.(*net.TCPConn); ok {
		if err := tc.SetLinger(0); err != nil {
			_ = c.Close()
			return fmt.Errorf("set SO_LINGER 0: %w", err)
		}
	}
	if err := c.Close(); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	return nil
}

// transact sends one request on c and reads its echo, within timeout.
func transact(c net.Conn, timeout time.Duration) error {
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return fmt.Errorf("set deadline: %w", err)
	}
	if _, err := c.Write(request); err != nil {
		return fmt.Errorf("send request: %w", err)
	}
	var buf [64]byte
	n := 0
	for !bytes.Contains(buf[:n], []byte{'\n'}) {
		if n == len(buf) {
			return errors.New("read answer: no end of line in 64 bytes")
		}
		m, err := c.Read(buf[n:])
		n += m
		if err != nil && !bytes.Contains(buf[:n], []byte{'\n'}) {
			return fmt.Errorf("read answer: %w", err)
		}
	}
	if !bytes.Equal(buf[:n], request) {
		return fmt.Errorf("read answer: got %q, want %q", buf[:n], request)
	}
	return nil
}
