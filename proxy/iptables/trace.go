package iptables

import (
	"fmt"
	"net/netip"
	"slices"
)

// Tracer follows a first packet through a Dump: nat (PREROUTING or
// OUTPUT), then filter (INPUT, FORWARD or OUTPUT) and nat POSTROUTING.
// Every `statistic` rule forks the trace, so the result is the set of
// endpoints the connection may reach. `recent --rcheck` never matches (a
// first packet has no history).
type Tracer struct {
	dump  *Dump
	local []netip.Addr
	rules map[string][]*rule // "table/chain" → parsed rules
}

// NewTracer traces over d; local are the node's addresses (for
// `-m addrtype LOCAL`), loopback is always local.
func NewTracer(d *Dump, local []netip.Addr) (*Tracer, error) {
	t := &Tracer{dump: d, local: local, rules: map[string][]*rule{}}
	for tname, table := range d.Tables {
		for chain, texts := range table.Chains {
			for _, text := range texts {
				r, err := parseRule(text)
				if err != nil {
					return nil, fmt.Errorf("%s/%s: %w", tname, chain, err)
				}
				t.rules[tname+"/"+chain] = append(t.rules[tname+"/"+chain], r)
			}
		}
	}
	return t, nil
}

// packet is the tracer's view of a packet on its way.
type packet struct {
	src      netip.Addr
	dst      netip.AddrPort
	proto    string
	fromNode bool
	mark     uint32
}

// outcome is where one branch of a trace ended.
type outcome struct {
	pkt     packet
	verdict string         // ACCEPT, DROP, REJECT, DNAT, MASQUERADE, RETURN
	dnat    netip.AddrPort // for DNAT
}

const maxDepth = 32

// walk evaluates a chain; outcomes with verdict RETURN fell off its end
// or hit RETURN.
func (t *Tracer) walk(table, chain string, p packet, depth int) ([]outcome, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("jump depth over %d at %s/%s", maxDepth, table, chain)
	}
	live := []packet{p}
	var done []outcome
	for _, r := range t.rules[table+"/"+chain] {
		var next []packet
		for _, lp := range live {
			m := t.match(r, lp)
			if m != no {
				outs, err := t.apply(table, r, lp, depth)
				if err != nil {
					return nil, err
				}
				for _, o := range outs {
					if o.verdict == "" {
						next = append(next, o.pkt)
					} else {
						done = append(done, o)
					}
				}
			}
			if m != yes {
				next = append(next, lp)
			}
		}
		live = next
	}
	for _, lp := range live {
		done = append(done, outcome{pkt: lp, verdict: "RETURN"})
	}
	return done, nil
}

// apply runs a matched rule's target; a verdict of "" means continue
// with the next rule.
func (t *Tracer) apply(table string, r *rule, p packet, depth int) ([]outcome, error) {
	switch r.target {
	case "":
		return []outcome{{pkt: p}}, nil
	case "MARK":
		q, err := applyMark(p, r.targetArgs)
		return []outcome{{pkt: q}}, err
	case "DNAT":
		to, err := dnatTarget(r.targetArgs)
		return []outcome{{pkt: p, verdict: "DNAT", dnat: to}}, err
	case "ACCEPT", "DROP", "REJECT", "MASQUERADE", "RETURN":
		return []outcome{{pkt: p, verdict: r.target}}, nil
	}
	if _, ok := t.rules[table+"/"+r.target]; !ok && !t.hasChain(table, r.target) {
		return nil, fmt.Errorf("jump to missing chain %s/%s", table, r.target)
	}
	outs, err := t.walk(table, r.target, p, depth+1)
	for i := range outs {
		if outs[i].verdict == "RETURN" {
			outs[i].verdict = ""
		}
	}
	return outs, err
}

func (t *Tracer) hasChain(table, chain string) bool {
	tb := t.dump.Tables[table]
	if tb == nil {
		return false
	}
	_, ok := tb.Chains[chain]
	return ok
}

func applyMark(p packet, args []string) (packet, error) {
	if len(args) < 2 {
		return p, fmt.Errorf("MARK without value")
	}
	mm, err := parseMark(args[1], false)
	if err != nil {
		return p, err
	}
	switch args[0] {
	case "--or-mark":
		p.mark |= mm.value
	case "--xor-mark":
		p.mark ^= mm.value
	case "--and-mark":
		p.mark &= mm.value
	case "--set-mark":
		p.mark = mm.value
	case "--set-xmark":
		p.mark = (p.mark &^ mm.mask) ^ mm.value
	default:
		return p, fmt.Errorf("MARK %s unsupported", args[0])
	}
	return p, nil
}

func dnatTarget(args []string) (netip.AddrPort, error) {
	i := slices.Index(args, "--to-destination")
	if i < 0 || i+1 >= len(args) {
		return netip.AddrPort{}, fmt.Errorf("DNAT without --to-destination")
	}
	return netip.ParseAddrPort(args[i+1])
}

type tri int

const (
	no tri = iota
	yes
	maybe
)

// match tells whether r matches p; a statistic match is maybe.
func (t *Tracer) match(r *rule, p packet) tri {
	ok := prefixOK(r.src, p.src) && prefixOK(r.dst, p.dst.Addr()) &&
		(r.proto == "" || r.proto == p.proto) &&
		(r.dport == 0 || r.dport == int(p.dst.Port())) &&
		t.typeOK(r.srcType, p.fromNode || t.isLocal(p.src)) &&
		t.typeOK(r.dstType, t.isLocal(p.dst.Addr())) &&
		!r.rcheck && markOK(r.mark, p.mark) && ctOK(r)
	switch {
	case !ok:
		return no
	case r.probability > 0 && r.probability < 1:
		return maybe
	}
	return yes
}

func prefixOK(m *prefixMatch, a netip.Addr) bool {
	return m == nil || m.p.Contains(a) != m.neg
}

func (t *Tracer) typeOK(m *typeMatch, local bool) bool {
	return m == nil || (m.typ == "LOCAL" && local) != m.neg
}

func (t *Tracer) isLocal(a netip.Addr) bool {
	return a.IsLoopback() || slices.Contains(t.local, a)
}

func markOK(m *markMatch, mark uint32) bool {
	return m == nil || (mark&m.mask == m.value) != m.neg
}

// ctOK: a traced packet is always NEW.
func ctOK(r *rule) bool {
	return r.ctstates == nil || slices.Contains(r.ctstates, "NEW") != r.ctNeg
}
