package flowtest

import (
	"fmt"
	"slices"
	"testing"

	"rudder/proxy/model"
)

// Run traces every case of Cases through the tracer newTracer builds
// for the cases' state, one subtest per case. Endpoint sets compare as
// sets.
func Run(t *testing.T, newTracer func(*model.State) Tracer) {
	t.Helper()
	st, cases := Cases()
	tr := newTracer(st)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			got, err := tr.Trace(c.Packet)
			if err != nil {
				t.Fatalf("Trace(%s): %v", Describe(c.Packet), err)
			}
			if !Equal(got, c.Want) {
				t.Errorf("Trace(%s)\n got  %s\n want %s", Describe(c.Packet), got, c.Want)
			}
		})
	}
}

// Equal compares verdicts, endpoints as sets.
func Equal(a, b Verdict) bool {
	return a.Reject == b.Reject && a.Drop == b.Drop && a.Masquerade == b.Masquerade &&
		slices.Equal(sorted(a), sorted(b))
}

func sorted(v Verdict) []string {
	var out []string
	for _, e := range v.Endpoints {
		out = append(out, e.String())
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// String is a verdict for test failures: "REJECT", "DROP", "ACCEPT" or
// "DNAT [a b] masquerade".
func (v Verdict) String() string {
	switch {
	case v.Reject:
		return "REJECT"
	case v.Drop:
		return "DROP"
	case len(v.Endpoints) == 0 && !v.Masquerade:
		return "ACCEPT"
	}
	s := fmt.Sprintf("DNAT %v", sorted(v))
	if v.Masquerade {
		s += " masquerade"
	}
	return s
}

// Describe is a packet for test failures.
func Describe(p Packet) string {
	from := "outside"
	switch {
	case p.FromLocalPod:
		from = "local pod"
	case p.FromNode:
		from = "node"
	}
	return fmt.Sprintf("%s %s -> %s (%s)", p.Protocol, p.Src, p.Dst, from)
}
