package plugin

import (
	"context"
	"slices"
	"testing"
	"time"
)

// BenchmarkAddDel measures ADD then DEL of one pod through libcni, the
// plugin running in a node namespace, as a runtime would call it.
func BenchmarkAddDel(b *testing.B) {
	requireRoot(b)
	n := newNode(b, pluginDir, "1.1.0")
	pod := n.pod("bench")
	ctx := context.Background()
	var adds, dels []time.Duration
	for b.Loop() {
		start := time.Now()
		if _, err := n.cni.AddNetworkList(ctx, n.list, n.rt("bench", pod)); err != nil {
			b.Fatalf("ADD: %v", err)
		}
		mid := time.Now()
		if err := n.cni.DelNetworkList(ctx, n.list, n.rt("bench", pod)); err != nil {
			b.Fatalf("DEL: %v", err)
		}
		adds, dels = append(adds, mid.Sub(start)), append(dels, time.Since(mid))
	}
	for _, m := range []struct {
		name string
		d    []time.Duration
	}{{"add", adds}, {"del", dels}} {
		b.ReportMetric(percentileMS(m.d, 50), m.name+"-p50-ms")
		b.ReportMetric(percentileMS(m.d, 99), m.name+"-p99-ms")
	}
}

// percentileMS is the p-th percentile of d in milliseconds (nearest rank).
func percentileMS(d []time.Duration, p int) float64 {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := (len(s)*p+99)/100 - 1
	return float64(s[max(i, 0)]) / float64(time.Millisecond)
}
