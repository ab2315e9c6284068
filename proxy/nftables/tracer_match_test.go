package nftables

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// match consumes one match expression from the front of rest; a nil
// result means rest starts with the rule's action.
func (tr *tracer) match(rest string, pk *packet, res *ruleResult) (*bool, string, error) {
	dst := pk.Dst.Addr().String()
	switch {
	case strings.HasPrefix(rest, "ct state new "):
		return ptr(true), strings.TrimPrefix(rest, "ct state new "), nil
	case strings.HasPrefix(rest, "ct state invalid "):
		return ptr(false), "", nil
	case strings.HasPrefix(rest, "ct status dnat "):
		return ptr(pk.dnat.IsValid()), strings.TrimPrefix(rest, "ct status dnat "), nil
	case strings.HasPrefix(rest, "ip saddr . ip daddr "):
		// Only in postrouting, after DNAT.
		return tr.lookup(strings.TrimPrefix(rest, "ip saddr . ip daddr "), res, pk.Src.String(), pk.dnat.Addr().String())
	case strings.HasPrefix(rest, "ip daddr . meta l4proto . th dport "):
		return tr.lookup(strings.TrimPrefix(rest, "ip daddr . meta l4proto . th dport "), res, dst, pk.proto(), pk.dport())
	case strings.HasPrefix(rest, "meta l4proto . th dport "):
		return tr.lookup(strings.TrimPrefix(rest, "meta l4proto . th dport "), res, pk.proto(), pk.dport())
	case strings.HasPrefix(rest, "ip daddr @"):
		set, tail := next(strings.TrimPrefix(rest, "ip daddr @"))
		return ptr(tr.inSet(set, dst)), tail, nil
	case strings.HasPrefix(rest, "ip saddr != @"):
		set, tail := next(strings.TrimPrefix(rest, "ip saddr != @"))
		return ptr(!tr.inSet(set, pk.Src.String())), tail, nil
	case strings.HasPrefix(rest, "ip saddr @"):
		set, tail := next(strings.TrimPrefix(rest, "ip saddr @"))
		return ptr(tr.inSet(set, pk.Src.String())), tail, nil
	case strings.HasPrefix(rest, "ip saddr "):
		addr, tail := next(strings.TrimPrefix(rest, "ip saddr "))
		return ptr(addr == pk.Src.String()), tail, nil
	case strings.HasPrefix(rest, "fib saddr type local "):
		return ptr(pk.FromNode), strings.TrimPrefix(rest, "fib saddr type local "), nil
	case strings.HasPrefix(rest, "numgen random mod "):
		f := strings.Fields(strings.TrimPrefix(rest, "numgen random mod "))
		if len(f) < 3 || f[1] != "==" || f[2] != "0" {
			return nil, "", fmt.Errorf("unknown numgen form")
		}
		res.branch = true
		return ptr(true), strings.TrimPrefix(rest, "numgen random mod "+f[0]+" == 0 "), nil
	case strings.HasPrefix(rest, "meta mark & ") && strings.Contains(rest, " == 0 "):
		m, err := strconv.ParseUint(strings.Fields(rest)[3], 0, 32)
		_, after, _ := strings.Cut(rest, " == 0 ")
		return ptr(pk.mark&uint32(m) == 0), after, err
	case strings.HasPrefix(rest, "meta l4proto ") && !strings.HasPrefix(rest, "meta l4proto . "):
		proto, tail := next(strings.TrimPrefix(rest, "meta l4proto "))
		return ptr(proto == pk.proto()), tail, nil
	}
	return nil, rest, nil
}

// lookup matches a concatenated key against a set (@name) or takes a
// verdict from a map (vmap @name).
func (tr *tracer) lookup(rest string, res *ruleResult, key ...string) (*bool, string, error) {
	if strings.HasPrefix(rest, "vmap @") {
		name, tail := next(strings.TrimPrefix(rest, "vmap @"))
		m := tr.table.Maps[name]
		if m == nil {
			return nil, "", fmt.Errorf("map %s does not exist", name)
		}
		e := m.FindElement(key...)
		if e == nil {
			return ptr(false), "", nil
		}
		return nil, strings.Join(e.Value, " ") + tail, nil
	}
	if !strings.HasPrefix(rest, "@") {
		return nil, "", fmt.Errorf("unknown lookup %q", rest)
	}
	name, tail := next(strings.TrimPrefix(rest, "@"))
	s := tr.table.Sets[name]
	if s == nil {
		return nil, "", fmt.Errorf("set %s does not exist", name)
	}
	return ptr(s.FindElement(key...) != nil), tail, nil
}

// inSet tells whether addr is in a one-field set of addresses or prefixes.
func (tr *tracer) inSet(name, addr string) bool {
	s := tr.table.Sets[name]
	if s == nil {
		return false
	}
	a, err := netip.ParseAddr(addr)
	for _, e := range s.Elements {
		k := e.Key[0]
		if k == addr {
			return true
		}
		if p, perr := netip.ParsePrefix(k); perr == nil && err == nil && p.Contains(a) {
			return true
		}
	}
	return false
}

// action interprets a rule's final statement.
func (tr *tracer) action(s string, pk *packet, res *ruleResult) error {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "jump "), strings.HasPrefix(s, "goto "),
		s == "return", s == "drop", s == "reject", s == "accept":
		res.action = s
	case s == "reject with tcp reset":
		res.action = "reject"
	case s == "masquerade fully-random":
		res.action = "masquerade"
	case strings.HasPrefix(s, "meta mark set meta mark "):
		f := strings.Fields(s)
		m, err := strconv.ParseUint(f[len(f)-1], 0, 32)
		if err != nil {
			return err
		}
		if f[len(f)-2] == "|" {
			pk.mark |= uint32(m)
		} else {
			pk.mark ^= uint32(m)
		}
		res.action = "continue"
	case strings.HasPrefix(s, "update @"):
		_, after, ok := strings.Cut(s, "} ")
		if !ok {
			return fmt.Errorf("unknown update %q", s)
		}
		return tr.action(after, pk, res)
	case strings.HasPrefix(s, "dnat to "):
		ap, err := netip.ParseAddrPort(strings.TrimPrefix(s, "dnat to "))
		if err != nil {
			return err
		}
		pk.dnat = ap
		res.action = "accept"
	default:
		return fmt.Errorf("unknown action %q", s)
	}
	return nil
}

// next splits off the first word.
func next(s string) (string, string) {
	w, tail, _ := strings.Cut(s, " ")
	return w, tail
}
