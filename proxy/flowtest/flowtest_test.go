package flowtest

import (
	"testing"

	"rudder/proxy/model"
)

func TestReference(t *testing.T) {
	Run(t, func(st *model.State) Tracer { return Reference(st) })
}

func TestCasesAreDistinct(t *testing.T) {
	_, cases := Cases()
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.Name] {
			t.Errorf("duplicate case name %q", c.Name)
		}
		seen[c.Name] = true
	}
	if len(cases) < 30 {
		t.Errorf("only %d cases", len(cases))
	}
}

func TestCasesStateIsFresh(t *testing.T) {
	a, _ := Cases()
	a.Services = nil
	b, _ := Cases()
	if len(b.Services) == 0 {
		t.Fatal("Cases shares its state between calls")
	}
}
