package proxier

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

func TestRunWaitsForSyncThenFollowsChanges(t *testing.T) {
	src, be := newFakeSource(), newFakeBackend()
	p, err := New(Config{NodeName: "me", Source: src, Backend: be, MinSyncPeriod: 10 * time.Millisecond, SyncPeriod: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()

	time.Sleep(50 * time.Millisecond)
	if n := be.count(); n != 0 {
		t.Fatalf("%d syncs before the source synced", n)
	}
	svcs := []*corev1.Service{service("a", "10.96.0.1")}
	src.set(svcs, slice("a", "10.244.1.5", "me", ""))
	waitCall(t, be)
	if c := be.last(); !c.full || c.servicePorts != 1 {
		t.Errorf("first sync %+v, want full with 1 service port", c)
	}
	src.set(svcs, slice("a", "10.244.1.6", "me", ""))
	waitCall(t, be)
	if c := be.last(); c.full || !slices.Equal(c.changed, []string{"ns/a:http/TCP"}) {
		t.Errorf("second sync %+v, want partial for ns/a", c)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

func waitCall(t *testing.T, be *fakeBackend) {
	t.Helper()
	select {
	case <-be.notify:
	case <-time.After(5 * time.Second):
		t.Fatal("no backend sync")
	}
}

func TestNewRejectsIncompleteConfig(t *testing.T) {
	src, be := newFakeSource(), newFakeBackend()
	for name, cfg := range map[string]Config{
		"no node":    {Source: src, Backend: be},
		"no source":  {NodeName: "me", Backend: be},
		"no backend": {NodeName: "me", Source: src},
		"max < min":  {NodeName: "me", Source: src, Backend: be, MinSyncPeriod: time.Minute, SyncPeriod: time.Second},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

func TestFilterAddresses(t *testing.T) {
	addrs := []netip.Addr{
		netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("192.168.1.10"), netip.MustParseAddr("10.0.0.5"),
		netip.MustParseAddr("fe80::1"), netip.MustParseAddr("::ffff:192.168.1.11"), netip.MustParseAddr("192.168.1.10"),
	}
	cidrs, err := ParseCIDRs(" 192.168.1.0/24 ,")
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Addr{netip.MustParseAddr("192.168.1.10"), netip.MustParseAddr("192.168.1.11")}
	if got := FilterAddresses(addrs, cidrs); !slices.Equal(got, want) {
		t.Errorf("filtered %v, want %v", got, want)
	}
	want = []netip.Addr{netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("192.168.1.10"), netip.MustParseAddr("192.168.1.11")}
	if got := FilterAddresses(addrs, nil); !slices.Equal(got, want) {
		t.Errorf("unfiltered %v, want %v", got, want)
	}
	if _, err := ParseCIDRs("10.0.0.0/33"); err == nil {
		t.Error("bad CIDR parsed")
	}
}
