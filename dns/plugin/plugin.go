// Package plugin is the contract between the DNS server and its handlers:
// a chain of Handlers, each answering a query itself or passing it to the
// next one, in the shape CoreDNS made familiar.
//
// A Handler that writes a reply returns the reply's rcode and nil. A
// Handler that writes nothing returns one of the rcodes for which
// ClientWrite is false (SERVFAIL, REFUSED, FORMERR, NOTIMP) and the server
// writes that error reply for it. A non-nil error means the reply was not
// written and is logged once by the server.
package plugin

import (
	"context"
	"fmt"

	"github.com/miekg/dns"
)

// Handler serves one query.
type Handler interface {
	ServeDNS(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error)
	// Name is the handler's name in logs, metrics and the config file.
	Name() string
}

// HandlerFunc adapts a function to a Handler with the given name.
type HandlerFunc struct {
	N string
	F func(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error)
}

// ServeDNS calls F.
func (h HandlerFunc) ServeDNS(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	return h.F(ctx, w, r)
}

// Name returns N.
func (h HandlerFunc) Name() string { return h.N }

// Plugin wraps the next handler of the chain.
type Plugin func(next Handler) Handler

// Chain builds one Handler from plugins, the first plugin outermost. The
// innermost next handler answers REFUSED: a query that no plugin owns is
// refused, as a DNS server that is not authoritative for it should.
func Chain(ps ...Plugin) Handler {
	var h Handler = Refuse{}
	for i := len(ps) - 1; i >= 0; i-- {
		h = ps[i](h)
	}
	return h
}

// Refuse is the end of every chain.
type Refuse struct{}

// ServeDNS returns REFUSED without writing.
func (Refuse) ServeDNS(context.Context, dns.ResponseWriter, *dns.Msg) (int, error) {
	return dns.RcodeRefused, nil
}

// Name is "refuse".
func (Refuse) Name() string { return "refuse" }

// Next calls next, or returns SERVFAIL with an error when there is none.
func Next(ctx context.Context, name string, next Handler, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	if next == nil {
		return dns.RcodeServerFailure, fmt.Errorf("plugin %s: no next handler", name)
	}
	return next.ServeDNS(ctx, w, r)
}

// ClientWrite tells whether a handler that returned rcode has written the
// reply itself. For SERVFAIL, REFUSED, FORMERR and NOTIMP it has not, and
// the server writes the error reply.
func ClientWrite(rcode int) bool {
	switch rcode {
	case dns.RcodeServerFailure, dns.RcodeRefused, dns.RcodeFormatError, dns.RcodeNotImplemented:
		return false
	}
	return true
}
