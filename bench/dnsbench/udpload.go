package dnsbench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// fixedRate is an open-loop UDP load generator for latency percentiles:
// it sends the query mix at a fixed total rate over several sockets and
// times every answer by its message ID. dnsperf -v gives per-query
// latencies too, but writing them costs dnsperf so much time that it
// inflates its own p99 several-fold; this generator records them in memory.
type fixedRate struct {
	addr     string
	packets  [][]byte // packed queries, ID bytes overwritten per send
	rate     int
	duration time.Duration
	sockets  int
}

// loadResult is what a fixed-rate run measured.
type loadResult struct {
	Sent, Received int
	Latencies      []time.Duration
}

// packMix packs qs as queries with RD set, ready to send.
func packMix(qs []Query) ([][]byte, error) {
	out := make([][]byte, 0, len(qs))
	for _, q := range qs {
		t, ok := dns.StringToType[q.Type]
		if !ok {
			return nil, fmt.Errorf("pack query mix: unknown type %q", q.Type)
		}
		m := new(dns.Msg)
		m.SetQuestion(q.Name, t)
		b, err := m.Pack()
		if err != nil {
			return nil, fmt.Errorf("pack query %s %s: %w", q.Name, q.Type, err)
		}
		out = append(out, b)
	}
	return out, nil
}

func (f fixedRate) run(ctx context.Context) (loadResult, error) {
	if f.rate <= 0 || f.sockets <= 0 || len(f.packets) == 0 {
		return loadResult{}, fmt.Errorf("fixed-rate load: rate %d, %d sockets, %d queries", f.rate, f.sockets, len(f.packets))
	}
	conns := make([]*net.UDPConn, 0, f.sockets)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	raddr, err := net.ResolveUDPAddr("udp", f.addr)
	if err != nil {
		return loadResult{}, fmt.Errorf("fixed-rate load target %s: %w", f.addr, err)
	}
	for range f.sockets {
		c, err := net.DialUDP("udp", nil, raddr)
		if err != nil {
			return loadResult{}, fmt.Errorf("fixed-rate load: dial %s: %w", f.addr, err)
		}
		// The generator must not lose replies itself while it is busy
		// sending (capped by net.core.rmem_max).
		_ = c.SetReadBuffer(4 << 20)
		conns = append(conns, c)
	}
	start := time.Now()
	workers := make([]*udpWorker, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		workers[i] = newUDPWorker(c, f.rate/f.sockets*int(f.duration/time.Second+1))
		wg.Add(2)
		go func() { defer wg.Done(); workers[i].receive() }()
		go func() {
			defer wg.Done()
			interval := time.Duration(int64(time.Second) * int64(f.sockets) / int64(f.rate))
			workers[i].send(ctx, f.packets, i*len(f.packets)/f.sockets, start.Add(interval*time.Duration(i)/time.Duration(f.sockets)), interval, start.Add(f.duration))
		}()
	}
	// Stragglers get a second after the last send, then the sockets close.
	select {
	case <-ctx.Done():
	case <-time.After(f.duration + time.Second):
	}
	for _, c := range conns {
		_ = c.SetReadDeadline(time.Now())
	}
	wg.Wait()
	var res loadResult
	for _, w := range workers {
		res.Sent += w.sent
		res.Received += len(w.lat)
		res.Latencies = append(res.Latencies, w.lat...)
	}
	return res, ctx.Err()
}

// udpWorker is one socket: a sender stamping each ID with its send time
// and a receiver turning answers into latencies.
type udpWorker struct {
	c     *net.UDPConn
	stamp []atomic.Int64 // send time (ns since base) by message ID; 0: none outstanding
	base  time.Time
	sent  int
	lat   []time.Duration
}

func newUDPWorker(c *net.UDPConn, expect int) *udpWorker {
	return &udpWorker{c: c, stamp: make([]atomic.Int64, 1<<16), base: time.Now(), lat: make([]time.Duration, 0, expect+expect/10)}
}

func (w *udpWorker) send(ctx context.Context, packets [][]byte, first int, next time.Time, interval time.Duration, end time.Time) {
	buf := make([]byte, 512)
	for k := first; ctx.Err() == nil; k++ {
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
		if !time.Now().Before(end) {
			return
		}
		p := packets[k%len(packets)]
		id := uint16(k)
		n := copy(buf, p)
		binary.BigEndian.PutUint16(buf, id)
		w.stamp[id].Store(int64(time.Since(w.base)) | 1)
		if _, err := w.c.Write(buf[:n]); err == nil {
			w.sent++
		}
		next = next.Add(interval)
	}
}

func (w *udpWorker) receive() {
	buf := make([]byte, 65535)
	for {
		n, err := w.c.Read(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, net.ErrClosed) {
				return
			}
			continue // e.g. a refused send reported on the socket; the deadline ends the loop
		}
		if n < 12 {
			continue
		}
		id := binary.BigEndian.Uint16(buf)
		if t := w.stamp[id].Swap(0); t != 0 {
			w.lat = append(w.lat, time.Since(w.base)-time.Duration(t))
		}
	}
}
