package scheduler

import (
	"errors"
	"testing"

	v1 "k8s.io/api/core/v1"
)

func TestFitErrorMessage(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  fitError
		want string
	}{
		{"no nodes", fitError{}, "no nodes available to schedule pods"},
		{"sorted histogram", fitError{numNodes: 3, reasons: map[string]int{reasonInsufficientCPU: 2, reasonUnschedulable: 1}},
			"0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."},
		{"string order as upstream", fitError{numNodes: 12, reasons: map[string]int{reasonInsufficientCPU: 10, reasonUnschedulable: 2}},
			"0/12 nodes are available: 10 Insufficient cpu, 2 node(s) were unschedulable. preemption: 0/12 nodes are available: 12 Preemption is not helpful for scheduling."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestNumFeasibleNodesToFind(t *testing.T) {
	for _, tc := range []struct{ all, want int }{
		{0, 0}, {50, 50}, {100, 100}, {200, 100}, {1000, 420}, {5000, 500}, {6000, 300}, {100000, 5000},
	} {
		if got := numFeasibleNodesToFind(tc.all); got != tc.want {
			t.Errorf("numFeasibleNodesToFind(%d) = %d, want %d", tc.all, got, tc.want)
		}
	}
}

func newTestCache(nodes ...*v1.Node) *cache {
	c := newCache()
	for _, n := range nodes {
		c.setNode(n)
	}
	return c
}

func TestScheduleReasons(t *testing.T) {
	c := newTestCache(
		node("n1", 1000, gi, 10, cordoned),
		node("n2", 100, gi, 10),
		node("n3", 100, gi, 10),
	)
	_, err := c.schedule(pod("p", 500, 0))
	var fe *fitError
	if !errors.As(err, &fe) {
		t.Fatalf("got %v, want a fitError", err)
	}
	want := "0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
	if err.Error() != want {
		t.Errorf("got  %q\nwant %q", err.Error(), want)
	}
}

func TestScheduleAssumes(t *testing.T) {
	// Two nodes with room for one such pod each: the assumed first pod must
	// push the second to the other node, and a third fits nowhere.
	c := newTestCache(node("n1", 1000, gi, 10), node("n2", 1000, gi, 10))
	first, err := c.schedule(pod("a", 600, 0))
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.schedule(pod("b", 600, 0))
	if err != nil {
		t.Fatal(err)
	}
	if first == second {
		t.Fatalf("both pods on %s", first)
	}
	p3 := pod("c", 600, 0)
	if _, err := c.schedule(p3); err == nil {
		t.Fatal("third pod scheduled, want no fit")
	}
	// Forgetting an assumed pod frees its room.
	for uid := range c.nodes[first].pods {
		c.forget(uid)
	}
	if got, err := c.schedule(p3); err != nil || got != first {
		t.Errorf("after forget: got %q, %v, want %s", got, err, first)
	}
}

func TestScheduleScores(t *testing.T) {
	soft := v1.Taint{Key: "soft", Effect: v1.TaintEffectPreferNoSchedule}
	for _, tc := range []struct {
		name     string
		nodes    []*v1.Node
		existing []*v1.Pod
		pod      *v1.Pod
		want     string
	}{
		{"tie goes to the first node", []*v1.Node{node("n1", 1000, gi, 10), node("n2", 1000, gi, 10)}, nil, pod("p", 100, 0), "n1"},
		{"least allocated", []*v1.Node{node("n1", 1000, gi, 10), node("n2", 1000, gi, 10)},
			[]*v1.Pod{pod("a", 500, gi/2, onNode("n1"))}, pod("p", 100, 0), "n2"},
		{"preferred affinity", []*v1.Node{node("n1", 1000, gi, 10), node("n2", 1000, gi, 10, withLabels("zone", "b"))}, nil,
			pod("p", 100, 0, preferredNodeAffinity(v1.PreferredSchedulingTerm{Weight: 1, Preference: expr("zone", v1.NodeSelectorOpIn, "b")})), "n2"},
		{"avoid PreferNoSchedule", []*v1.Node{node("n1", 1000, gi, 10, withTaints(soft)), node("n2", 1000, gi, 10)}, nil, pod("p", 100, 0), "n2"},
		{"spread owner", []*v1.Node{node("n1", 1000, gi, 10), node("n2", 2000, 2*gi, 10)},
			[]*v1.Pod{pod("a", 0, 0, onNode("n2"), ownedBy("rs"))}, pod("p", 0, 0, ownedBy("rs")), "n1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestCache(tc.nodes...)
			for _, p := range tc.existing {
				c.addPod(p)
			}
			got, err := c.schedule(tc.pod)
			if err != nil || got != tc.want {
				t.Errorf("got %q, %v, want %s", got, err, tc.want)
			}
		})
	}
}

func TestCachePodLifecycle(t *testing.T) {
	c := newTestCache(node("n1", 1000, gi, 10))
	p := pod("a", 300, 0, onNode("n1"))
	c.addPod(p)
	c.addPod(p) // an update must not double-count
	if got := c.nodes["n1"].requested.milliCPU; got != 300 {
		t.Fatalf("requested = %d, want 300", got)
	}
	// A pod reported before its node, then the node removed while the pod stays.
	early := pod("b", 100, 0, onNode("n2"))
	c.addPod(early)
	c.mu.Lock()
	if n := len(c.nodeListLocked()); n != 1 {
		t.Errorf("schedulable nodes = %d, want 1", n)
	}
	c.mu.Unlock()
	c.setNode(node("n2", 1000, gi, 10))
	if got := c.nodes["n2"].requested.milliCPU; got != 100 {
		t.Errorf("n2 requested = %d, want 100", got)
	}
	c.removeNode("n2")
	c.removePod(early.UID)
	if _, ok := c.nodes["n2"]; ok {
		t.Error("n2 still cached after node and pod left")
	}
	c.removePod(p.UID)
	if got := c.nodes["n1"].requested.milliCPU; got != 0 {
		t.Errorf("requested after removal = %d, want 0", got)
	}
}
