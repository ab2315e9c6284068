package kubernetes

import (
	"context"
	"fmt"

	"github.com/miekg/dns"
)

// outsideTarget is the target of an answer that ends in a CNAME pointing
// out of the zone (an ExternalName), or "".
func (h *Handler) outsideTarget(z *Zone, m *dns.Msg, qtype uint16) string {
	if qtype == dns.TypeCNAME || h.next == nil || len(m.Answer) == 0 {
		return ""
	}
	c, ok := m.Answer[len(m.Answer)-1].(*dns.CNAME)
	if !ok || z.inZone(c.Target) {
		return ""
	}
	return c.Target
}

// resolveOutside asks the rest of the chain for target and appends its
// answer to m, as CoreDNS does for ExternalName services. On any failure m
// keeps the bare CNAME and the client follows it itself.
func (h *Handler) resolveOutside(ctx context.Context, w dns.ResponseWriter, r, m *dns.Msg, target string) {
	q := new(dns.Msg)
	q.SetQuestion(target, r.Question[0].Qtype)
	q.RecursionDesired = true
	if o := r.IsEdns0(); o != nil {
		q.SetEdns0(o.UDPSize(), o.Do())
	}
	rec := &recorder{ResponseWriter: w}
	rcode, err := h.next.ServeDNS(ctx, rec, q)
	if err != nil || rec.msg == nil || !(rcode == dns.RcodeSuccess || rcode == dns.RcodeNameError) {
		h.log.Debug("resolve ExternalName target", "target", target, "rcode", rcode, "err", err)
		return
	}
	m.Answer = append(m.Answer, rec.msg.Answer...)
	m.Rcode = rec.msg.Rcode
	if m.Rcode == dns.RcodeNameError || len(rec.msg.Answer) == 0 {
		m.Ns = rec.msg.Ns
	}
}

// recorder keeps the reply of a handler instead of sending it; the client
// address is the real one.
type recorder struct {
	dns.ResponseWriter
	msg *dns.Msg
}

func (r *recorder) WriteMsg(m *dns.Msg) error { r.msg = m; return nil }

func (r *recorder) Write(b []byte) (int, error) {
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		return 0, fmt.Errorf("kubernetes: unpack reply of the next handler: %w", err)
	}
	r.msg = m
	return len(b), nil
}
