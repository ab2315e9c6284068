package iptables

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"rudder/proxy/flowtest"
)

// Trace implements flowtest.Tracer: it runs the packet through the nat
// hook it meets first, then through the filter hook and (when DNAT'ed)
// nat POSTROUTING, over every statistic branch.
func (t *Tracer) Trace(fp flowtest.Packet) (flowtest.Verdict, error) {
	p := packet{src: fp.Src, dst: fp.Dst, proto: strings.ToLower(string(fp.Protocol)), fromNode: fp.FromNode}
	natHook := "PREROUTING"
	if fp.FromNode {
		natHook = "OUTPUT"
	}
	outs, err := t.walk(tableNAT, natHook, p, 0)
	if err != nil {
		return flowtest.Verdict{}, err
	}
	var v flowtest.Verdict
	for _, o := range outs {
		if err := t.finish(o, &v); err != nil {
			return flowtest.Verdict{}, err
		}
	}
	slices.SortFunc(v.Endpoints, netip.AddrPort.Compare)
	v.Endpoints = slices.Compact(v.Endpoints)
	if n := len(v.Endpoints); (n > 0 && (v.Reject || v.Drop)) || (v.Reject && v.Drop) {
		return v, fmt.Errorf("ambiguous verdict %+v", v)
	}
	return v, nil
}

// finish takes one branch out of nat through filter and POSTROUTING.
func (t *Tracer) finish(o outcome, v *flowtest.Verdict) error {
	switch o.verdict {
	case "DROP", "REJECT":
		return fmt.Errorf("%s in the nat table", o.verdict)
	case "DNAT":
		o.pkt.dst = o.dnat
	}
	verdict, err := t.filter(o.pkt)
	if err != nil {
		return err
	}
	switch verdict {
	case "DROP":
		v.Drop = true
		return nil
	case "REJECT":
		v.Reject = true
		return nil
	}
	if o.verdict != "DNAT" {
		return nil
	}
	v.Endpoints = append(v.Endpoints, o.dnat)
	post, err := t.walk(tableNAT, "POSTROUTING", o.pkt, 0)
	if err != nil {
		return err
	}
	for _, po := range post {
		v.Masquerade = v.Masquerade || po.verdict == "MASQUERADE"
	}
	return nil
}

// filter runs the filter hook the packet meets; branches must agree.
func (t *Tracer) filter(p packet) (string, error) {
	hook := "FORWARD"
	switch {
	case p.fromNode:
		hook = "OUTPUT"
	case t.isLocal(p.dst.Addr()):
		hook = "INPUT"
	}
	outs, err := t.walk(tableFilter, hook, p, 0)
	if err != nil {
		return "", err
	}
	verdict := "ACCEPT"
	for i, o := range outs {
		vd := o.verdict
		if vd == "RETURN" {
			vd = "ACCEPT"
		}
		if i > 0 && vd != verdict {
			return "", fmt.Errorf("filter %s: branches disagree (%s, %s)", hook, verdict, vd)
		}
		verdict = vd
	}
	return verdict, nil
}
