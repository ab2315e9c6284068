package iptables

import (
	"bufio"
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Dump is what a set of tables holds: table → chain → rules, as the fake
// keeps it and as parsed from iptables-save.
type Dump struct {
	Tables map[string]*TableDump
}

// TableDump is one table.
type TableDump struct {
	Chains map[string][]string // chain → rules (the text after "-A <chain> ")
}

var builtinChains = map[string][]string{
	"nat":    {"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"},
	"filter": {"INPUT", "FORWARD", "OUTPUT"},
	"mangle": {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"},
	"raw":    {"PREROUTING", "OUTPUT"},
}

func isBuiltinChain(table, chain string) bool {
	return slices.Contains(builtinChains[table], chain)
}

// builtinTargets are the jump targets that are not chains.
var builtinTargets = map[string]bool{
	"ACCEPT": true, "DROP": true, "RETURN": true, "REJECT": true, "DNAT": true, "SNAT": true,
	"MASQUERADE": true, "MARK": true, "LOG": true, "CONNMARK": true,
}

// NewDump returns an empty dump.
func NewDump() *Dump { return &Dump{Tables: map[string]*TableDump{}} }

// ParseDump parses iptables-save output.
func ParseDump(save []byte) (*Dump, error) {
	d := NewDump()
	return d, d.Restore(save, false)
}

func (d *Dump) table(name string) *TableDump {
	if t := d.Tables[name]; t != nil {
		return t
	}
	t := &TableDump{Chains: map[string][]string{}}
	for _, c := range builtinChains[name] {
		t.Chains[c] = nil
	}
	return t
}

func (t *TableDump) clone() *TableDump {
	c := &TableDump{Chains: make(map[string][]string, len(t.Chains))}
	for k, v := range t.Chains {
		c.Chains[k] = slices.Clone(v)
	}
	return c
}

// Restore applies iptables-restore input, table by table, each table
// atomically at its COMMIT. Without noflush every named table is emptied
// first, as iptables-restore does.
func (d *Dump) Restore(input []byte, noflush bool) error {
	sc := bufio.NewScanner(bytes.NewReader(input))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	var name string
	var cur *TableDump
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		var err error
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "*"):
			name = line[1:]
			cur = d.table(name).clone()
			if !noflush {
				cur = (&Dump{}).table(name)
			}
		case cur == nil:
			err = fmt.Errorf("no table")
		case line == "COMMIT":
			err = cur.check(name)
			if err == nil {
				if d.Tables == nil {
					d.Tables = map[string]*TableDump{}
				}
				d.Tables[name], cur = cur, nil
			}
		default:
			err = cur.apply(name, line)
		}
		if err != nil {
			return fmt.Errorf("line %d %q: %w", n, line, err)
		}
	}
	if cur != nil {
		return fmt.Errorf("table %s: no COMMIT", name)
	}
	return sc.Err()
}

// apply runs one line of a table section.
func (t *TableDump) apply(table, line string) error {
	if strings.HasPrefix(line, ":") {
		chain := strings.Fields(line[1:])[0]
		if !isBuiltinChain(table, chain) {
			t.Chains[chain] = nil // declared: created, or flushed
		}
		return nil
	}
	if line == "-Z" {
		return nil // zero all counters: the dump keeps none
	}
	op, rest, _ := strings.Cut(line, " ")
	chain, rule, _ := strings.Cut(rest, " ")
	if _, ok := t.Chains[chain]; !ok {
		return fmt.Errorf("no chain %s", chain)
	}
	switch op {
	case "-A":
		t.Chains[chain] = append(t.Chains[chain], rule)
	case "-I":
		pos, r, _ := strings.Cut(rule, " ")
		i, err := strconv.Atoi(pos)
		if err != nil {
			i, r = 1, rule
		}
		if i < 1 || i > len(t.Chains[chain])+1 {
			return fmt.Errorf("bad position %d", i)
		}
		t.Chains[chain] = slices.Insert(t.Chains[chain], i-1, r)
	case "-D":
		i := slices.Index(t.Chains[chain], rule)
		if i < 0 {
			return fmt.Errorf("no such rule")
		}
		t.Chains[chain] = slices.Delete(t.Chains[chain], i, i+1)
	case "-F":
		t.Chains[chain] = nil
	case "-X":
		return t.deleteChain(table, chain)
	default:
		return fmt.Errorf("unknown command %s", op)
	}
	return nil
}

func (t *TableDump) deleteChain(table, chain string) error {
	if isBuiltinChain(table, chain) {
		return fmt.Errorf("cannot delete builtin chain %s", chain)
	}
	if len(t.Chains[chain]) > 0 {
		return fmt.Errorf("chain %s is not empty", chain)
	}
	for from, rules := range t.Chains {
		for _, r := range rules {
			if target(r) == chain {
				return fmt.Errorf("chain %s is referenced from %s", chain, from)
			}
		}
	}
	delete(t.Chains, chain)
	return nil
}

// check verifies that every jump has a target.
func (t *TableDump) check(table string) error {
	for from, rules := range t.Chains {
		for _, r := range rules {
			tg := target(r)
			if _, ok := t.Chains[tg]; tg != "" && !builtinTargets[tg] && (!ok || isBuiltinChain(table, tg)) {
				return fmt.Errorf("chain %s: jump to missing chain %s", from, tg)
			}
		}
	}
	return nil
}

// target is a rule's -j or -g target.
func target(rule string) string {
	f := strings.Fields(rule)
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "-j" || f[i] == "-g" {
			return f[i+1]
		}
	}
	return ""
}

// String renders the dump like iptables-save (without counters), tables
// and user chains sorted, builtin chains first.
func (d *Dump) String() string {
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(d.Tables)) {
		t := d.Tables[name]
		b.WriteString("*" + name + "\n")
		chains := t.chainOrder(name)
		for _, c := range chains {
			policy := "-"
			if isBuiltinChain(name, c) {
				policy = "ACCEPT"
			}
			b.WriteString(":" + c + " " + policy + "\n")
		}
		for _, c := range chains {
			for _, r := range t.Chains[c] {
				b.WriteString("-A " + c + " " + r + "\n")
			}
		}
		b.WriteString("COMMIT\n")
	}
	return b.String()
}

func (t *TableDump) chainOrder(table string) []string {
	var out []string
	for _, c := range builtinChains[table] {
		if _, ok := t.Chains[c]; ok {
			out = append(out, c)
		}
	}
	var user []string
	for c := range t.Chains {
		if !isBuiltinChain(table, c) {
			user = append(user, c)
		}
	}
	slices.Sort(user)
	return append(out, user...)
}

// UserChains lists the table's chains whose name starts with prefix.
func (d *Dump) UserChains(table, prefix string) []string {
	t := d.Tables[table]
	if t == nil {
		return nil
	}
	var out []string
	for c := range t.Chains {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}
