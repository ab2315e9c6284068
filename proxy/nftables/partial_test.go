package nftables

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"rudder/proxy/model"
)

// steps is a sequence of states, each a small change of the one before.
func steps() []struct {
	name string
	edit func(st *model.State)
} {
	find := func(st *model.State, name string) *model.ServicePort {
		for i := range st.Services {
			if st.Services[i].Name.Name == name {
				return &st.Services[i]
			}
		}
		panic(name)
	}
	return []struct {
		name string
		edit func(st *model.State)
	}{
		{"drop an endpoint", func(st *model.State) {
			sp := find(st, "web")
			sp.ClusterEndpoints = sp.ClusterEndpoints[1:]
		}},
		{"share an endpoint address", func(st *model.State) {
			sp := find(st, "extip")
			sp.ClusterEndpoints = append(sp.ClusterEndpoints, ep("10.244.2.5:9999", false))
		}},
		{"endpoints go away", func(st *model.State) {
			sp := find(st, "dns")
			sp.ClusterEndpoints, sp.LocalEndpoints = nil, nil
		}},
		{"endpoints come back", func(st *model.State) {
			sp := find(st, "empty")
			sp.ClusterEndpoints = []model.Endpoint{ep("10.244.2.40:80", false)}
		}},
		{"affinity timeout", func(st *model.State) {
			find(st, "sticky").Affinity = &model.Affinity{Timeout: time.Hour}
		}},
		{"affinity off", func(st *model.State) { find(st, "sticky").Affinity = nil }},
		{"affinity on", func(st *model.State) {
			find(st, "web").Affinity = &model.Affinity{Timeout: time.Minute}
		}},
		{"policy local", func(st *model.State) { find(st, "web").ExternalPolicyLocal = true }},
		{"new frontend", func(st *model.State) {
			sp := find(st, "extip")
			sp.LoadBalancerIPs = []netip.Addr{netip.MustParseAddr("192.0.2.60")}
		}},
		{"service removed", func(st *model.State) {
			st.Services = st.Services[1:]
		}},
		{"service added", func(st *model.State) {
			st.Services = append(st.Services, svc("zz-new", model.TCP, "10.96.1.1", 443, ep("10.244.3.3:443", false)))
		}},
	}
}

func cloneState(st *model.State) *model.State {
	out := *st
	out.Services = append([]model.ServicePort(nil), st.Services...)
	return &out
}

// TestPartialSync applies each step as a partial sync and checks that
// the result equals a full sync of the same state, and that the partial
// transaction is small.
func TestPartialSync(t *testing.T) {
	ctx := context.Background()
	cur := sampleState()
	fake, b := syncedFake(t, cur)
	for _, s := range steps() {
		next := cloneState(cur)
		s.edit(next)
		changed := model.Diff(cur, next)
		if err := b.Sync(ctx, next, changed, false); err != nil {
			t.Fatalf("%s: partial sync: %v", s.name, err)
		}
		if st := b.LastSync(); st.Full || st.Operations > 60 {
			t.Errorf("%s: last sync %+v, want a small partial one", s.name, st)
		}
		want, _ := syncedFake(t, next)
		if got, want := normalized(fake.Dump()), normalized(want.Dump()); got != want {
			t.Errorf("%s: partial result differs from full sync:\n--- partial\n%s\n--- full\n%s", s.name, got, want)
		}
		checkConsistent(t, fake)
		cur = next
	}
}

func TestSyncAfterFailureIsFull(t *testing.T) {
	ctx := context.Background()
	_, b := syncedFake(t, sampleState())
	b.synced = false // as after a failed sync
	if err := b.Sync(ctx, sampleState(), nil, false); err != nil {
		t.Fatal(err)
	}
	if !b.LastSync().Full {
		t.Error("sync after failure was not full")
	}
	st := sampleState()
	st.Node.NodePortAddresses = append(st.Node.NodePortAddresses, netip.MustParseAddr("192.168.1.11"))
	if err := b.Sync(ctx, st, nil, false); err != nil {
		t.Fatal(err)
	}
	if !b.LastSync().Full {
		t.Error("sync after a node change was not full")
	}
}

func TestCleanup(t *testing.T) {
	fake, b := syncedFake(t, sampleState())
	if err := b.Cleanup(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := fake.Dump(); d != "" {
		t.Errorf("table left after cleanup:\n%s", d)
	}
	if err := b.Cleanup(context.Background()); err != nil {
		t.Errorf("second cleanup: %v", err)
	}
}

func TestEmptyPartialSyncRunsNothing(t *testing.T) {
	fake, b := syncedFake(t, sampleState())
	before := fake.LastTransaction
	if err := b.Sync(context.Background(), sampleState(), nil, false); err != nil {
		t.Fatal(err)
	}
	if fake.LastTransaction != before {
		t.Error("an empty partial sync ran a transaction")
	}
}
