package forward

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// upstream is one server queries are forwarded to, with its connection
// pools and health.
type upstream struct {
	addr     string
	udp, tcp *pool
	bufs     *buffers

	fails    atomic.Int32 // consecutive failed tries
	down     atomic.Bool
	checking atomic.Bool

	healthy   prometheus.Gauge
	duration  prometheus.Observer
	hcFailure prometheus.Counter
	requests  *prometheus.CounterVec
}

func newUpstream(addr string, expire time.Duration, bufs *buffers, m *metrics) *upstream {
	u := &upstream{
		addr: addr, bufs: bufs,
		udp: newPool("udp", addr, expire), tcp: newPool("tcp", addr, expire),
		healthy:   m.healthy.WithLabelValues(addr),
		duration:  m.duration.WithLabelValues(addr),
		hcFailure: m.hcFailures.WithLabelValues(addr),
		requests:  m.requests,
	}
	u.healthy.Set(1)
	return u
}

// exchange sends the packed query (with its two-byte TCP length prefix in
// front) over TCP or UDP and returns the reply that answers q. A reused
// connection that fails before the deadline is replaced by a fresh one
// once: the upstream may have closed it while it was idle.
func (u *upstream) exchange(ctx context.Context, framed []byte, q *dns.Question, tcp bool, timeout time.Duration) (*dns.Msg, error) {
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	p := u.udp
	if tcp {
		p = u.tcp
	}
	for attempt := 0; ; attempt++ {
		c, reused, err := p.get(deadline)
		if err != nil {
			return nil, err
		}
		m, err := u.exchangeOn(c, framed, q, tcp, deadline)
		if err == nil {
			p.put(c)
			return m, nil
		}
		c.Close()
		if !reused || attempt > 0 || time.Now().After(deadline) || isTimeout(err) {
			return nil, err
		}
	}
}

func (u *upstream) exchangeOn(c net.Conn, framed []byte, q *dns.Question, tcp bool, deadline time.Time) (*dns.Msg, error) {
	if err := c.SetDeadline(deadline); err != nil {
		return nil, fmt.Errorf("set deadline: %w", err)
	}
	buf := u.bufs.get()
	defer u.bufs.put(buf)
	if tcp {
		return exchangeTCP(c, framed, q, *buf)
	}
	return exchangeUDP(c, framed[2:], q, *buf)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// failed counts a failed try and reports whether it marked the upstream
// down just now.
func (u *upstream) failed(maxFails int32) bool {
	if u.fails.Add(1) < maxFails {
		return false
	}
	if u.down.CompareAndSwap(false, true) {
		u.healthy.Set(0)
		return true
	}
	return false
}

// succeeded resets the failure count and marks the upstream up.
func (u *upstream) succeeded() {
	if u.fails.Load() != 0 {
		u.fails.Store(0)
	}
	if u.down.Load() && u.down.CompareAndSwap(true, false) {
		u.healthy.Set(1)
	}
}

// countReply records one try's outcome for the metrics.
func (u *upstream) countReply(m *dns.Msg, start time.Time) {
	u.duration.Observe(time.Since(start).Seconds())
	rc := "error"
	if m != nil {
		rc = rcodeName(m.Rcode)
	}
	u.requests.WithLabelValues(u.addr, rc).Inc()
}

func rcodeName(rc int) string {
	if s, ok := dns.RcodeToString[rc]; ok {
		return s
	}
	return fmt.Sprintf("RCODE%d", rc)
}

// frame packs r with a new ID into buf after a two-byte TCP length.
func frame(r *dns.Msg, id uint16, buf []byte) ([]byte, error) {
	b, err := r.PackBuffer(buf[2:])
	if err != nil {
		return nil, fmt.Errorf("pack query: %w", err)
	}
	if len(b) > dns.MaxMsgSize {
		return nil, fmt.Errorf("pack query: %d bytes", len(b))
	}
	if &b[0] != &buf[2] { // PackBuffer outgrew buf
		b = append(make([]byte, 2, len(b)+2), b...)
	} else {
		b = buf[:len(b)+2]
	}
	binary.BigEndian.PutUint16(b, uint16(len(b)-2))
	binary.BigEndian.PutUint16(b[2:], id)
	return b, nil
}
