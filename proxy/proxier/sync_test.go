package proxier

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"rudder/proxy/healthcheck"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

type fixture struct {
	p   *Proxier
	src *fakeSource
	be  *fakeBackend
	reg *prometheus.Registry
	clk *clocktesting.FakeClock
	hz  *healthcheck.Healthz
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{src: newFakeSource(), be: newFakeBackend(), reg: prometheus.NewRegistry(), clk: clocktesting.NewFakeClock(t0)}
	f.hz = healthcheck.NewHealthz(f.clk, time.Minute)
	p, err := New(Config{
		NodeName: "me", Source: f.src, Backend: f.be, Registerer: f.reg, Clock: f.clk, Healthz: f.hz,
		MinSyncPeriod: time.Second, SyncPeriod: 30 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.p = p
	return f
}

// metric is the value of a gauge or counter, or the sample count of a
// histogram, summed over labels; -1 if absent.
func (f *fixture) metric(t *testing.T, name string) float64 {
	t.Helper()
	mfs, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		sum := 0.0
		for _, m := range mf.GetMetric() {
			sum += value(m)
		}
		return sum
	}
	return -1
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return 0
}

func TestSyncPassesChangesAndFullFlag(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	svcs := []*corev1.Service{service("a", "10.96.0.1"), service("b", "10.96.0.2")}
	f.src.set(svcs, slice("a", "10.244.1.5", "me", ""))

	if err := f.p.sync(ctx, true); err != nil {
		t.Fatal(err)
	}
	if c := f.be.last(); !c.full || !slices.Equal(c.changed, []string{"ns/a:http/TCP", "ns/b:http/TCP"}) || c.servicePorts != 2 {
		t.Errorf("first sync %+v", c)
	}

	if err := f.p.sync(ctx, false); err != nil {
		t.Fatal(err)
	}
	if n := f.be.count(); n != 1 {
		t.Errorf("a partial sync with nothing changed reached the backend (%d calls)", n)
	}

	f.src.set(svcs, slice("a", "10.244.1.6", "me", ""))
	if err := f.p.sync(ctx, false); err != nil {
		t.Fatal(err)
	}
	if c := f.be.last(); c.full || !slices.Equal(c.changed, []string{"ns/a:http/TCP"}) {
		t.Errorf("partial sync %+v", c)
	}

	f.src.set(svcs[:1], slice("a", "10.244.1.6", "me", ""))
	if err := f.p.sync(ctx, false); err != nil {
		t.Fatal(err)
	}
	if c := f.be.last(); !slices.Equal(c.changed, []string{"ns/b:http/TCP"}) || c.servicePorts != 1 {
		t.Errorf("removal sync %+v", c)
	}
}

func TestSyncFailureKeepsChanges(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	f.src.set([]*corev1.Service{service("a", "10.96.0.1")})
	if err := f.p.sync(ctx, true); err != nil {
		t.Fatal(err)
	}
	f.src.set([]*corev1.Service{service("a", "10.96.0.1"), service("b", "10.96.0.2")})
	f.be.err = errors.New("boom")
	if err := f.p.sync(ctx, false); err == nil || !errors.Is(err, f.be.err) {
		t.Fatalf("sync error %v, want wrapping boom", err)
	}
	f.be.err = nil
	if err := f.p.sync(ctx, true); err != nil {
		t.Fatal(err)
	}
	if c := f.be.last(); !c.full || !slices.Equal(c.changed, []string{"ns/b:http/TCP"}) {
		t.Errorf("retry after failure %+v, want full with b still changed", c)
	}
	if got := f.metric(t, "rudder_proxy_syncs_total"); got != 3 {
		t.Errorf("syncs_total %v, want 3", got)
	}
}

func TestSyncMetrics(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	svcs := []*corev1.Service{service("a", "10.96.0.1")}
	f.src.set(svcs, slice("a", "10.244.1.5", "me", t0.Add(-time.Hour).Format(time.RFC3339Nano)))
	if err := f.p.sync(ctx, true); err != nil {
		t.Fatal(err)
	}
	if got := f.metric(t, "rudder_proxy_network_programming_duration_seconds"); got != 0 {
		t.Errorf("programming latency observed at start-up (%v samples)", got)
	}
	f.clk.Step(3 * time.Second)
	f.src.set(svcs, slice("a", "10.244.1.6", "me", t0.Add(time.Second).Format(time.RFC3339Nano)))
	if err := f.p.sync(ctx, false); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]float64{
		"rudder_proxy_network_programming_duration_seconds": 1,
		"rudder_proxy_sync_duration_seconds":                2,
		"rudder_proxy_last_sync_success_timestamp_seconds":  float64(t0.Add(3 * time.Second).Unix()),
		"rudder_proxy_service_ports":                        1,
		"rudder_proxy_endpoints":                            1,
		"rudder_proxy_rules":                                7,
	} {
		if got := f.metric(t, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if ok, _ := f.hz.Healthy(); !ok {
		t.Error("healthz unhealthy after a successful sync")
	}
}

func TestHealthChecks(t *testing.T) {
	lb := func(port int32) func(*corev1.Service) {
		return func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeLoadBalancer
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
			s.Spec.HealthCheckNodePort = port
			s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: "other", Port: 81, Protocol: corev1.ProtocolTCP})
		}
	}
	f := newFixture(t)
	f.src.set([]*corev1.Service{service("a", "10.96.0.1", lb(32001)), service("b", "10.96.0.2", lb(32002)), service("c", "10.96.0.3")},
		slice("a", "10.244.1.5", "me", ""), slice("b", "10.244.2.5", "other", ""))
	snap := f.src.Snapshot()
	if err := f.p.sync(t.Context(), true); err != nil {
		t.Fatal(err)
	}
	got := healthChecks(f.p.applied)
	want := []healthcheck.Service{
		{Name: snapName(snap.Services[0]), Port: 32001, LocalEndpoints: 1},
		{Name: snapName(snap.Services[1]), Port: 32002, LocalEndpoints: 0},
	}
	if !slices.Equal(got, want) {
		t.Errorf("healthChecks = %v, want %v", got, want)
	}
}
