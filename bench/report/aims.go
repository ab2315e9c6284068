package report

import (
	"fmt"
	"math"
)

// Aim is one target of issue 7 and what this run measured against it.
type Aim struct {
	// What is aimed at, for people, e.g. "pod↔pod over VXLAN / raw veth".
	What string
	// AtMost is true for "≤ Target" aims, false for "≥ Target".
	AtMost bool
	Target float64
	// Measured is the ratio this run found; valid only when Known.
	Measured float64
	Known    bool
}

// Met reports whether the aim was measured and reached.
func (a Aim) Met() bool {
	if !a.Known {
		return false
	}
	if a.AtMost {
		return a.Measured <= a.Target
	}
	return a.Measured >= a.Target
}

// Verdict is "met", "missed by X%" (relative to the target) or
// "not measured".
func (a Aim) Verdict() string {
	switch {
	case !a.Known:
		return "not measured"
	case a.Met():
		return "met"
	}
	miss := math.Abs(a.Measured-a.Target) / a.Target * 100
	if miss < 0.05 {
		return "missed by <0.1%"
	}
	return fmt.Sprintf("missed by %.1f%%", miss)
}

// TargetText returns the aim as text, e.g. "≥ 0.93".
func (a Aim) TargetText() string {
	op := "≥"
	if a.AtMost {
		op = "≤"
	}
	return fmt.Sprintf("%s %.2f", op, a.Target)
}

// Aims evaluates the aims of issue 7 against r, always in the same
// order and always all of them; unmeasurable ones are not Known.
func Aims(r *Results) []Aim {
	raw := func(id, what string, target float64) Aim {
		a := Aim{What: what + " / raw veth", Target: target}
		if p, v := r.Path(id), r.Path(RawVethID); p != nil && v != nil {
			a.Measured, a.Known = ratio(p.Stream, v.Stream)
		}
		return a
	}
	versus := func(id, what string) Aim {
		a := Aim{What: what + " / direct pod path", Target: 0.97}
		if p := r.Path(id); p != nil && p.Versus != "" {
			if v := r.Path(p.Versus); v != nil {
				a.Measured, a.Known = ratio(p.Stream, v.Stream)
			}
		}
		return a
	}
	return []Aim{
		raw("pod-same-node", "pod↔pod same node", 0.93),
		raw("pod-vxlan", "pod↔pod over VXLAN", 0.85),
		raw("pod-host-gw", "pod↔pod over host-gw", 0.90),
		versus("clusterip-nftables", "ClusterIP (nftables)"),
		versus("clusterip-iptables", "ClusterIP (iptables)"),
		scaleAim(r, "nftables", 1.10),
	}
}

// scaleAim compares backend's CRR p50 at its largest service count
// with that at its smallest.
func scaleAim(r *Results, backend string, target float64) Aim {
	a := Aim{What: backend + " CRR p50, most / fewest services", AtMost: true, Target: target}
	var pts []Scale
	for _, s := range scalesOf(r, backend) {
		if len(s.CRRP50) > 0 {
			pts = append(pts, s)
		}
	}
	if len(pts) < 2 || pts[0].Services == pts[len(pts)-1].Services {
		return a
	}
	lo, hi := pts[0], pts[len(pts)-1]
	a.What = fmt.Sprintf("%s CRR p50, %s / %s services", backend, num(float64(hi.Services), 0), num(float64(lo.Services), 0))
	a.Measured, a.Known = ratio(hi.CRRP50, lo.CRRP50)
	return a
}
