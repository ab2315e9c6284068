package nftables

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"rudder/proxy/model"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// normalized is a dump with element lines sorted (the Fake keeps them in
// insertion order, which a partial sync changes).
func normalized(dump string) string {
	lines := strings.Split(strings.TrimSpace(dump), "\n")
	var head, elems []string
	for _, l := range lines {
		if strings.HasPrefix(l, "add element ") {
			elems = append(elems, l)
		} else {
			head = append(head, l)
		}
	}
	slices.Sort(elems)
	return strings.Join(append(head, elems...), "\n") + "\n"
}

func TestGolden(t *testing.T) {
	for name, st := range map[string]*model.State{
		"sample": sampleState(),
		"empty":  {Node: testNode()},
		"ten":    manyServices(10),
	} {
		t.Run(name, func(t *testing.T) {
			fake, _ := syncedFake(t, st)
			got := normalized(fake.Dump())
			checkConsistent(t, fake)
			path := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs (run with -update and review the diff):\n%s", path, got)
			}
		})
	}
}

// TestRuleCounts checks the counts against the Fake's content.
func TestRuleCounts(t *testing.T) {
	var _ interface{ RuleCounts() map[string]int } = (*Backend)(nil)
	fake, b := syncedFake(t, sampleState())
	fake.RLock()
	defer fake.RUnlock()
	want := map[string]int{"chains": len(fake.Table.Chains)}
	for _, c := range fake.Table.Chains {
		want["rules"] += len(c.Rules)
	}
	for name, s := range fake.Table.Sets {
		if strings.HasPrefix(name, prefixAffinity) {
			want["sets"]++
		} else if name != setNodePortIPs && name != setClusterCIDRs {
			want["elements"] += len(s.Elements)
		}
	}
	for _, m := range fake.Table.Maps {
		want["elements"] += len(m.Elements)
	}
	got := b.RuleCounts()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %d, want %d", k, got[k], v)
		}
	}
}
