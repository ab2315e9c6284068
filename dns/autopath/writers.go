package autopath

import (
	"fmt"

	"github.com/miekg/dns"
)

// nxCatcher passes every reply to the client except NXDOMAIN, which it
// keeps.
type nxCatcher struct {
	dns.ResponseWriter
	nx *dns.Msg
}

func (c *nxCatcher) WriteMsg(m *dns.Msg) error {
	if m.Rcode == dns.RcodeNameError {
		c.nx = m
		return nil
	}
	return c.ResponseWriter.WriteMsg(m)
}

func (c *nxCatcher) Write(b []byte) (int, error) {
	m, err := unpack(b)
	if err != nil {
		return 0, err
	}
	return len(b), c.WriteMsg(m)
}

// recorder keeps the reply instead of sending it; the client's address is
// still the real one, for the handlers that look at it.
type recorder struct {
	dns.ResponseWriter
	msg *dns.Msg
}

func (r *recorder) WriteMsg(m *dns.Msg) error { r.msg = m; return nil }

func (r *recorder) Write(b []byte) (int, error) {
	m, err := unpack(b)
	if err != nil {
		return 0, err
	}
	r.msg = m
	return len(b), nil
}

func unpack(b []byte) (*dns.Msg, error) {
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		return nil, fmt.Errorf("autopath: unpack reply of the next handler: %w", err)
	}
	return m, nil
}
