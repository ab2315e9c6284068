package plugin

import (
	"net"
	"strings"

	"github.com/miekg/dns"
)

// Request is what handlers read of a query: the question lowercased, the
// transport and the size a reply may have.
type Request struct {
	W   dns.ResponseWriter
	Req *dns.Msg
}

// NewRequest wraps a query. The server has checked that it has exactly
// one question before any handler sees it.
func NewRequest(w dns.ResponseWriter, r *dns.Msg) Request { return Request{W: w, Req: r} }

// Name is the question's name, lowercased and fully qualified.
func (r Request) Name() string {
	if len(r.Req.Question) == 0 {
		return "."
	}
	return strings.ToLower(dns.Fqdn(r.Req.Question[0].Name))
}

// QType is the question's type.
func (r Request) QType() uint16 {
	if len(r.Req.Question) == 0 {
		return 0
	}
	return r.Req.Question[0].Qtype
}

// Proto is "udp" or "tcp".
func (r Request) Proto() string {
	if r.W == nil {
		return "udp"
	}
	if _, ok := r.W.RemoteAddr().(*net.TCPAddr); ok {
		return "tcp"
	}
	return "udp"
}

// IP is the client's address, or nil.
func (r Request) IP() net.IP {
	if r.W == nil {
		return nil
	}
	switch a := r.W.RemoteAddr().(type) {
	case *net.UDPAddr:
		return a.IP
	case *net.TCPAddr:
		return a.IP
	}
	return nil
}

// Do tells whether the query set the DNSSEC OK bit.
func (r Request) Do() bool {
	if o := r.Req.IsEdns0(); o != nil {
		return o.Do()
	}
	return false
}

// Size is the largest reply the client takes: 65535 over TCP, else the
// EDNS0 buffer size (at least 512), else 512.
func (r Request) Size() int {
	if r.Proto() == "tcp" {
		return dns.MaxMsgSize
	}
	if o := r.Req.IsEdns0(); o != nil {
		if s := int(o.UDPSize()); s > dns.MinMsgSize {
			return s
		}
	}
	return dns.MinMsgSize
}
