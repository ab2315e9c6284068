package iptables

import (
	"context"
	"testing"

	"rudder/proxy/flowtest"
	"rudder/proxy/model"
)

// syncFake runs one full sync of st into a fresh fake and returns it.
func syncFake(t testing.TB, st *model.State) *Fake {
	t.Helper()
	f := NewFake()
	b, err := New(Config{Mode: ModeLegacy, Executor: f})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Sync(context.Background(), st, nil, true); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestPacketFlow(t *testing.T) {
	flowtest.Run(t, func(st *model.State) flowtest.Tracer {
		f := syncFake(t, st)
		tr, err := NewTracer(f.Dump(ModeLegacy), st.Node.NodePortAddresses)
		if err != nil {
			t.Fatal(err)
		}
		return tr
	})
}

// TestPacketFlowAfterPartialSyncs reaches the cases' state from an empty
// one through a partial sync, then traces the shared cases.
func TestPacketFlowAfterPartialSyncs(t *testing.T) {
	flowtest.Run(t, func(st *model.State) flowtest.Tracer {
		f := NewFake()
		b, _ := New(Config{Mode: ModeNFT, Executor: f})
		ctx := context.Background()
		if err := b.Sync(ctx, &model.State{Node: st.Node}, nil, false); err != nil {
			t.Fatal(err)
		}
		var names []model.ServicePortName
		for _, sp := range st.Services {
			names = append(names, sp.Name)
		}
		if err := b.Sync(ctx, st, names, false); err != nil {
			t.Fatal(err)
		}
		if n := len(f.Restores()); n != 2 {
			t.Fatalf("%d restores, want 2", n)
		}
		d := f.Dump(ModeNFT)
		checkConsistent(t, d)
		tr, err := NewTracer(d, st.Node.NodePortAddresses)
		if err != nil {
			t.Fatal(err)
		}
		return tr
	})
}
