package scheduler

import (
	"slices"
	"testing"

	v1 "k8s.io/api/core/v1"
)

func TestScoreLeastAllocated(t *testing.T) {
	for _, tc := range []struct {
		name     string
		existing []*v1.Pod
		pod      *v1.Pod
		want     int64
	}{
		{"empty node, half of each", nil, pod("p", 500, gi/2), 50},
		{"cpu full, memory defaulted to 200Mi", nil, pod("p", 1000, 0), (0 + 80) / 2},
		{"existing pods count", []*v1.Pod{pod("a", 250, gi/4, onNode("n"))}, pod("p", 250, gi/4), 50},
		{"no requests use defaults", nil, pod("p", 0, 0), (90 + 80) / 2},
		{"over capacity scores 0", []*v1.Pod{pod("a", 1000, gi, onNode("n"))}, pod("p", 100, 0), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ni := newNodeInfoFor(node("n", 1000, gi, 10), tc.existing...)
			if got := scoreLeastAllocated(newPodInfo(tc.pod), ni); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}

func TestScorePreferredNodeAffinity(t *testing.T) {
	n := node("n", 1000, gi, 10, withLabels("zone", "a", "disk", "ssd"))
	for _, tc := range []struct {
		name  string
		terms []v1.PreferredSchedulingTerm
		want  int64
	}{
		{"none", nil, 0},
		{"one match", []v1.PreferredSchedulingTerm{{Weight: 10, Preference: expr("zone", v1.NodeSelectorOpIn, "a")}}, 10},
		{"sum of matches", []v1.PreferredSchedulingTerm{
			{Weight: 10, Preference: expr("zone", v1.NodeSelectorOpIn, "a")},
			{Weight: 5, Preference: expr("disk", v1.NodeSelectorOpExists)},
			{Weight: 50, Preference: expr("gpu", v1.NodeSelectorOpExists)},
		}, 15},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := scorePreferredNodeAffinity(pod("p", 0, 0, preferredNodeAffinity(tc.terms...)), newNodeInfoFor(n)); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}

func TestScorePreferNoSchedule(t *testing.T) {
	soft := v1.Taint{Key: "soft", Value: "x", Effect: v1.TaintEffectPreferNoSchedule}
	soft2 := v1.Taint{Key: "soft2", Effect: v1.TaintEffectPreferNoSchedule}
	hard := v1.Taint{Key: "hard", Effect: v1.TaintEffectNoSchedule}
	for _, tc := range []struct {
		name   string
		taints []v1.Taint
		tols   []v1.Toleration
		want   int64
	}{
		{"none", nil, nil, 0},
		{"hard taints do not count", []v1.Taint{hard}, nil, 0},
		{"two soft", []v1.Taint{soft, soft2}, nil, 2},
		{"one tolerated", []v1.Taint{soft, soft2}, []v1.Toleration{{Key: "soft", Value: "x", Effect: v1.TaintEffectPreferNoSchedule}}, 1},
		{"empty effect tolerates", []v1.Taint{soft}, []v1.Toleration{{Key: "soft", Operator: v1.TolerationOpExists}}, 0},
		{"NoSchedule toleration does not", []v1.Taint{soft}, []v1.Toleration{{Key: "soft", Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoSchedule}}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := scorePreferNoSchedule(pod("p", 0, 0, tolerations(tc.tols...)), newNodeInfoFor(node("n", 1000, gi, 10, withTaints(tc.taints...))))
			if got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}

func TestScoreOwnerCount(t *testing.T) {
	ni := newNodeInfoFor(node("n", 1000, gi, 10),
		pod("a", 0, 0, onNode("n"), ownedBy("rs1")),
		pod("b", 0, 0, onNode("n"), ownedBy("rs1")),
		pod("c", 0, 0, onNode("n"), ownedBy("rs2")))
	for _, tc := range []struct {
		name string
		pod  *v1.Pod
		want int64
	}{
		{"no owner", pod("p", 0, 0), 0},
		{"rs1", pod("p", 0, 0, ownedBy("rs1")), 2},
		{"rs3", pod("p", 0, 0, ownedBy("rs3")), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := scoreOwnerCount(newPodInfo(tc.pod), ni); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		name string
		fn   func([]int64)
		in   []int64
		want []int64
	}{
		{"scale", normalizeScores(false), []int64{0, 5, 10}, []int64{0, 50, 100}},
		{"all zero", normalizeScores(false), []int64{0, 0}, []int64{0, 0}},
		{"reverse", normalizeScores(true), []int64{0, 1, 2}, []int64{100, 50, 0}},
		{"reverse all zero", normalizeScores(true), []int64{0, 0}, []int64{100, 100}},
		{"spread", spreadScores, []int64{0, 1, 4}, []int64{100, 75, 0}},
		{"spread none", spreadScores, []int64{0, 0}, []int64{100, 100}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := slices.Clone(tc.in)
			tc.fn(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
