package nftables

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/knftables"

	"rudder/proxy/flowtest"
)

// tracer follows a packet through the Fake's table, taking every numgen
// branch, and reports all endpoints it can reach. It understands the rule
// forms this package writes and fails on anything else.
type tracer struct {
	table *knftables.FakeTable
}

func newTracer(fake *knftables.Fake) *tracer {
	fake.RLock()
	defer fake.RUnlock()
	return &tracer{table: fake.Table}
}

// packet is the packet's state while it is traced.
type packet struct {
	flowtest.Packet
	mark uint32
	dnat netip.AddrPort
}

// outcome is where one path through a hook ends.
type outcome struct {
	verdict string // accept, drop, reject, masquerade
	pkt     packet
}

func (tr *tracer) Trace(p flowtest.Packet) (flowtest.Verdict, error) {
	filter, nat := chainFilterPrerouting, chainNATPrerouting
	if p.FromNode {
		filter, nat = chainFilterOutput, chainNATOutput
	}
	pk := packet{Packet: p}
	outs, err := tr.run(filter, pk)
	if err != nil {
		return flowtest.Verdict{}, err
	}
	for _, o := range outs {
		switch o.verdict {
		case "reject":
			return flowtest.Verdict{Reject: true}, nil
		case "drop":
			return flowtest.Verdict{Drop: true}, nil
		}
	}
	if outs, err = tr.run(nat, pk); err != nil {
		return flowtest.Verdict{}, err
	}
	return tr.postrouting(outs)
}

// postrouting gathers the DNAT targets and whether any path masquerades.
func (tr *tracer) postrouting(outs []outcome) (flowtest.Verdict, error) {
	var v flowtest.Verdict
	for _, o := range outs {
		if o.verdict == "drop" {
			return flowtest.Verdict{Drop: true}, nil
		}
		if o.pkt.dnat.IsValid() && !slices.Contains(v.Endpoints, o.pkt.dnat) {
			v.Endpoints = append(v.Endpoints, o.pkt.dnat)
		}
		post, err := tr.run(chainNATPostrouting, o.pkt)
		if err != nil {
			return v, err
		}
		for _, p := range post {
			v.Masquerade = v.Masquerade || p.verdict == "masquerade"
		}
	}
	slices.SortFunc(v.Endpoints, func(a, b netip.AddrPort) int { return a.Compare(b) })
	return v, nil
}

// frame is a position in a chain; the stack holds jump return points.
type frame struct {
	chain string
	rule  int
}

func (tr *tracer) run(chain string, pk packet) ([]outcome, error) {
	return tr.step([]frame{{chain, 0}}, pk, 0)
}

func (tr *tracer) step(stack []frame, pk packet, depth int) ([]outcome, error) {
	if depth > 1000 {
		return nil, fmt.Errorf("rule loop at %v", stack)
	}
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		c := tr.table.Chains[top.chain]
		if c == nil {
			return nil, fmt.Errorf("chain %s does not exist", top.chain)
		}
		if top.rule >= len(c.Rules) {
			stack = stack[:len(stack)-1]
			continue
		}
		rule := c.Rules[top.rule].Rule
		top.rule++
		before := pk
		res, err := tr.evalRule(rule, &pk)
		if err != nil {
			return nil, fmt.Errorf("chain %s: %w", c.Name, err)
		}
		if !res.matched {
			pk = before
			continue
		}
		taken := pk
		next, done := tr.act(res.action, stack)
		var outs []outcome
		if done {
			outs = []outcome{{verdict: res.action, pkt: taken}}
		}
		if !res.branch {
			if done {
				return outs, nil
			}
			stack, pk = next, taken
			continue
		}
		// A random branch: both taking it and not.
		if !done {
			if outs, err = tr.step(next, taken, depth+1); err != nil {
				return nil, err
			}
		}
		rest, err := tr.step(stack, before, depth+1)
		return append(outs, rest...), err
	}
	return []outcome{{verdict: "accept", pkt: pk}}, nil
}

// act applies a matched rule's action to the stack; done is true when it
// ends the hook.
func (tr *tracer) act(action string, stack []frame) ([]frame, bool) {
	verb, arg, _ := strings.Cut(action, " ")
	switch verb {
	case "jump":
		return append(slices.Clone(stack), frame{arg, 0}), false
	case "goto":
		next := slices.Clone(stack)
		next[len(next)-1] = frame{arg, 0}
		return next, false
	case "return":
		return slices.Clone(stack[:len(stack)-1]), false
	case "continue":
		return slices.Clone(stack), false
	}
	return nil, true
}

// ruleResult is a rule's evaluation: whether it matched, its action
// (jump X, goto X, return, continue, accept, drop, reject, masquerade),
// and whether it is a random branch (taken or not).
type ruleResult struct {
	matched bool
	action  string
	branch  bool
}

func (tr *tracer) evalRule(rule string, pk *packet) (ruleResult, error) {
	rest := rule
	res := ruleResult{matched: true}
	for rest != "" {
		m, tail, err := tr.match(rest, pk, &res)
		if err != nil {
			return res, fmt.Errorf("rule %q: %w", rule, err)
		}
		if m == nil {
			return res, tr.action(tail, pk, &res)
		}
		if !*m {
			return ruleResult{}, nil
		}
		rest = tail
	}
	return res, fmt.Errorf("rule %q has no action", rule)
}

func ptr(b bool) *bool { return &b }

func (pk *packet) proto() string { return strings.ToLower(string(pk.Protocol)) }
func (pk *packet) dport() string { return strconv.Itoa(int(pk.Dst.Port())) }
