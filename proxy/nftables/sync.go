package nftables

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"time"

	"sigs.k8s.io/knftables"

	"rudder/proxy/model"
)

// Sync writes state in one transaction: everything when full is set (or
// when no full sync has succeeded yet, or the node's facts changed),
// otherwise only the service ports named in changed. A failed sync makes
// the next one full.
func (b *Backend) Sync(ctx context.Context, state *model.State, changed []model.ServicePortName, full bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	full = full || !b.synced || !reflect.DeepEqual(b.node, state.Node)
	start := time.Now()
	tx := b.nft.NewTransaction()
	var rec record
	if full {
		rec = writeFull(tx, state)
	} else {
		rec = b.writePartial(tx, state, changed)
	}
	ops := tx.NumOperations()
	if ops == 0 {
		return nil
	}
	if err := b.nft.Run(ctx, tx); err != nil {
		b.synced = false
		return fmt.Errorf("nftables sync (full=%v, %d operations): %w", full, ops, err)
	}
	b.synced, b.node, b.record = true, state.Node, rec
	b.lastSync = SyncStats{Full: full, Operations: ops}
	b.logger.Debug("nftables sync", "full", full, "operations", ops, "duration", time.Since(start))
	return nil
}

// record is what was last written, for the next partial sync to diff.
type record struct {
	written map[model.ServicePortName]*portObjects
	hairpin hairpinRefs
}

// writeFull recreates the table from nothing, atomically.
func writeFull(tx *knftables.Transaction, state *model.State) record {
	tx.Add(&knftables.Table{})
	tx.Delete(&knftables.Table{})
	tx.Add(&knftables.Table{})
	addLayout(tx, state.Node)
	written := make(map[model.ServicePortName]*portObjects, len(state.Services))
	all := make([]*portObjects, 0, len(state.Services))
	for i := range state.Services {
		objs := buildPort(&state.Services[i], state.Node)
		written[state.Services[i].Name] = objs
		all = append(all, objs)
	}
	// Sets and chains first, so rules and elements can refer to them.
	for _, objs := range all {
		addSets(tx, objs)
		addChains(tx, objs)
	}
	for _, objs := range all {
		addRules(tx, objs)
		for _, e := range objs.elements {
			tx.Add(e.object())
		}
	}
	hairpin := hairpinRefs{}
	hairpin.addAll(tx, written)
	return record{written: written, hairpin: hairpin}
}

// writePartial rewrites only the changed service ports, diffing against
// what was last written.
func (b *Backend) writePartial(tx *knftables.Transaction, state *model.State, changed []model.ServicePortName) record {
	written := maps.Clone(b.written)
	var prevs, nexts []*portObjects
	byName := make(map[model.ServicePortName]*model.ServicePort, len(changed))
	for i := range state.Services {
		byName[state.Services[i].Name] = &state.Services[i]
	}
	for _, name := range dedup(changed) {
		var next *portObjects
		if sp := byName[name]; sp != nil {
			next = buildPort(sp, state.Node)
			written[name] = next
		} else {
			delete(written, name)
		}
		writeDiff(tx, b.written[name], next)
		prevs, nexts = appendNonNil(prevs, b.written[name]), appendNonNil(nexts, next)
	}
	return record{written: written, hairpin: b.hairpin.update(tx, prevs, nexts)}
}

func appendNonNil(list []*portObjects, objs *portObjects) []*portObjects {
	if objs == nil {
		return list
	}
	return append(list, objs)
}

func dedup(names []model.ServicePortName) []model.ServicePortName {
	seen := make(map[model.ServicePortName]bool, len(names))
	out := names[:0:0]
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}
