package iptables

import (
	"fmt"
	"strings"
	"testing"
)

// checkConsistent fails when a rule jumps to a missing chain, or when a
// per-service RUDDER- chain cannot be reached from a builtin chain.
func checkConsistent(t testing.TB, d *Dump) {
	t.Helper()
	for _, p := range consistencyProblems(d) {
		t.Error(p)
	}
}

// helperChains exist even when no service uses them yet.
var helperChains = map[string]bool{chainMarkMasq: true, chainOffCluster: true}

func consistencyProblems(d *Dump) []string {
	var problems []string
	for name, table := range d.Tables {
		if err := table.check(name); err != nil {
			problems = append(problems, fmt.Sprintf("table %s: %v", name, err))
		}
		reached := map[string]bool{}
		var visit func(string)
		visit = func(chain string) {
			if reached[chain] {
				return
			}
			reached[chain] = true
			for _, r := range table.Chains[chain] {
				if tg := target(r); tg != "" && !builtinTargets[tg] {
					visit(tg)
				}
			}
		}
		for _, c := range builtinChains[name] {
			visit(c)
		}
		for _, c := range d.UserChains(name, chainPrefix) {
			if !reached[c] && !helperChains[c] {
				problems = append(problems, fmt.Sprintf("table %s: orphan chain %s", name, c))
			}
		}
	}
	return problems
}

func TestConsistencyCatchesProblems(t *testing.T) {
	d := NewDump()
	err := d.Restore([]byte("*nat\n:RUDDER-A - [0:0]\n-A RUDDER-A -j RUDDER-MISSING\nCOMMIT\n"), true)
	if err == nil || !strings.Contains(err.Error(), "missing chain") {
		t.Fatalf("restore with a dangling jump: %v", err)
	}
	if err := d.Restore([]byte("*nat\n:RUDDER-ORPHAN - [0:0]\nCOMMIT\n"), true); err != nil {
		t.Fatal(err)
	}
	if p := consistencyProblems(d); len(p) != 1 || !strings.Contains(p[0], "orphan chain RUDDER-ORPHAN") {
		t.Error("orphan chain not reported")
	}
}
