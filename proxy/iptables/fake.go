package iptables

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
)

// Fake is an Executor that keeps one Dump per mode and understands
// iptables-{legacy,nft}-{save,restore}. It records every restore input.
type Fake struct {
	mu       sync.Mutex
	dumps    map[Mode]*Dump
	restores []string
	// FailNext makes the next restore fail (for retry tests).
	FailNext bool
	// Missing lists modes whose tools are not installed.
	Missing []Mode
}

// NewFake returns an empty fake.
func NewFake() *Fake {
	return &Fake{dumps: map[Mode]*Dump{ModeLegacy: NewDump(), ModeNFT: NewDump()}}
}

// Run implements Executor.
func (f *Fake) Run(_ context.Context, stdin []byte, name string, args ...string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case name == "nft" && slices.Equal(args, []string{"list", "chains", "ip"}):
		return f.listChains(), nil
	case name == "iptables-nft" && len(args) == 6 && args[1] == "-t" && args[3] == "-S":
		return f.listChain(args[2], args[4]), nil
	}
	rest, ok := strings.CutPrefix(name, "iptables-")
	mode, tool, ok2 := strings.Cut(rest, "-")
	d := f.dumps[Mode(mode)]
	if !ok || !ok2 || d == nil || slices.Contains(f.Missing, Mode(mode)) {
		return nil, fmt.Errorf("%s: executable file not found", name)
	}
	switch tool {
	case "save":
		return f.save(d, args)
	case "restore":
		f.restores = append(f.restores, string(stdin))
		if f.FailNext {
			f.FailNext = false
			return nil, fmt.Errorf("%s: injected failure", name)
		}
		if err := d.Restore(stdin, slices.Contains(args, "--noflush")); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return nil, nil
	}
	return nil, fmt.Errorf("%s: unknown tool", name)
}

func (f *Fake) save(d *Dump, args []string) ([]byte, error) {
	if i := slices.Index(args, "-t"); i >= 0 && i+1 < len(args) {
		t := d.Tables[args[i+1]]
		if t == nil {
			t = d.table(args[i+1])
		}
		one := &Dump{Tables: map[string]*TableDump{args[i+1]: t}}
		return []byte(one.String()), nil
	}
	return []byte(d.String()), nil
}

// listChains answers `nft list chains ip` from the nft dump.
func (f *Fake) listChains() []byte {
	var b strings.Builder
	d := f.dumps[ModeNFT]
	for _, name := range slices.Sorted(maps.Keys(d.Tables)) {
		b.WriteString("table ip " + name + " {\n")
		for _, c := range d.Tables[name].chainOrder(name) {
			b.WriteString("\tchain " + c + " {\n\t}\n")
		}
		b.WriteString("}\n")
	}
	return []byte(b.String())
}

// listChain answers `iptables-nft -w -t TABLE -S CHAIN`.
func (f *Fake) listChain(table, chain string) []byte {
	var b strings.Builder
	if t := f.dumps[ModeNFT].Tables[table]; t != nil {
		b.WriteString("-P " + chain + " ACCEPT\n")
		for _, r := range t.Chains[chain] {
			b.WriteString("-A " + chain + " " + r + "\n")
		}
	}
	return []byte(b.String())
}

// Dump returns a copy of what the given mode holds.
func (f *Fake) Dump(m Mode) *Dump {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := NewDump()
	for name, t := range f.dumps[m].Tables {
		c.Tables[name] = t.clone()
	}
	return c
}

// Restores returns every restore input so far.
func (f *Fake) Restores() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.restores)
}
