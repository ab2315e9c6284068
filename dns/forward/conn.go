package forward

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/miekg/dns"

	"rudder/dns/plugin"
)

// maxIdle bounds the idle connections kept per upstream and transport.
const maxIdle = 256

// errMismatch is a reply that does not answer the query sent.
var errMismatch = errors.New("reply does not match the query")

// pool keeps idle connections to one upstream over one transport, most
// recently used last, and closes those idle for longer than expire.
type pool struct {
	network, addr string
	expire        time.Duration

	mu     sync.Mutex
	idle   []idleConn
	closed bool
}

type idleConn struct {
	c    net.Conn
	used time.Time
}

func newPool(network, addr string, expire time.Duration) *pool {
	return &pool{network: network, addr: addr, expire: expire}
}

// get returns an idle connection (reused true) or dials a new one.
func (p *pool) get(deadline time.Time) (c net.Conn, reused bool, err error) {
	now := time.Now()
	p.mu.Lock()
	for len(p.idle) > 0 {
		ic := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if now.Sub(ic.used) < p.expire {
			p.mu.Unlock()
			return ic.c, true, nil
		}
		ic.c.Close() // the newest is stale, so are all: drain
	}
	p.mu.Unlock()
	d := net.Dialer{Deadline: deadline}
	c, err = d.Dial(p.network, p.addr)
	if err != nil {
		return nil, false, fmt.Errorf("dial %s %s: %w", p.network, p.addr, err)
	}
	return c, false, nil
}

// put returns a healthy connection to the pool and closes the stale ones
// at its old end.
func (p *pool) put(c net.Conn) {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.idle) > 0 && now.Sub(p.idle[0].used) >= p.expire {
		p.idle[0].c.Close()
		p.idle = p.idle[1:]
	}
	if p.closed || len(p.idle) >= maxIdle {
		c.Close()
		return
	}
	p.idle = append(p.idle, idleConn{c: c, used: now})
}

// close closes the idle connections; later puts close theirs.
func (p *pool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, ic := range p.idle {
		ic.c.Close()
	}
	p.idle = nil
}

// buffers recycles the 64 KiB buffers replies are read into.
type buffers struct{ p sync.Pool }

func newBuffers() *buffers {
	return &buffers{p: sync.Pool{New: func() any {
		b := make([]byte, dns.MaxMsgSize+2)
		return &b
	}}}
}

func (b *buffers) get() *[]byte  { return b.p.Get().(*[]byte) }
func (b *buffers) put(p *[]byte) { b.p.Put(p) }

// exchangeUDP sends query on a connected UDP socket and reads until a
// reply with its ID and question arrives; stray datagrams (late replies
// to earlier queries on this socket) are skipped.
func exchangeUDP(c net.Conn, query []byte, q *dns.Question, buf []byte) (*dns.Msg, error) {
	if _, err := c.Write(query); err != nil {
		return nil, fmt.Errorf("send udp: %w", err)
	}
	id := binary.BigEndian.Uint16(query)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return nil, fmt.Errorf("read udp: %w", err)
		}
		if n < 12 || binary.BigEndian.Uint16(buf) != id {
			continue
		}
		m, err := unpackReply(buf[:n], q)
		if err == nil {
			return m, nil
		}
	}
}

// exchangeTCP sends the length-prefixed query (query[0:2] is the length)
// and reads one length-prefixed reply.
func exchangeTCP(c net.Conn, query []byte, q *dns.Question, buf []byte) (*dns.Msg, error) {
	if _, err := c.Write(query); err != nil {
		return nil, fmt.Errorf("send tcp: %w", err)
	}
	if _, err := io.ReadFull(c, buf[:2]); err != nil {
		return nil, fmt.Errorf("read tcp length: %w", err)
	}
	n := int(binary.BigEndian.Uint16(buf))
	if n < 12 {
		return nil, fmt.Errorf("read tcp: reply of %d bytes", n)
	}
	if _, err := io.ReadFull(c, buf[:n]); err != nil {
		return nil, fmt.Errorf("read tcp reply: %w", err)
	}
	if binary.BigEndian.Uint16(buf) != binary.BigEndian.Uint16(query[2:]) {
		return nil, fmt.Errorf("read tcp: %w (id)", errMismatch)
	}
	return unpackReply(buf[:n], q)
}

// unpackReply decodes a reply and checks that it answers q.
func unpackReply(b []byte, q *dns.Question) (*dns.Msg, error) {
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		return nil, fmt.Errorf("unpack reply: %w", err)
	}
	if !m.Response {
		return nil, fmt.Errorf("unpack reply: %w (not a response)", errMismatch)
	}
	if len(m.Question) == 0 && m.Rcode != dns.RcodeSuccess {
		return m, nil // an error reply without the question, as some servers send
	}
	if len(m.Question) != 1 {
		return nil, fmt.Errorf("unpack reply: %w (%d questions)", errMismatch, len(m.Question))
	}
	mq := &m.Question[0]
	if mq.Qtype != q.Qtype || mq.Qclass != q.Qclass || !plugin.SameName(mq.Name, q.Name) {
		return nil, fmt.Errorf("unpack reply: %w (question %s)", errMismatch, mq.Name)
	}
	return m, nil
}
