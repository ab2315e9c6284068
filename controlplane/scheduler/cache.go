package scheduler

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// cache is the in-memory snapshot the scheduler decides from: every node and
// the pods accounted to it. Pods come from the informer once bound, or are
// assumed by the scheduler the moment it picks a node, so the next decision
// already sees them; a failed bind forgets the assumed pod.
type cache struct {
	mu        sync.Mutex
	nodes     map[string]*NodeInfo
	order     []*NodeInfo // nodes with a Node object, by name; nil when stale
	podNode   map[types.UID]string
	assumed   map[types.UID]bool
	nextStart int // where the next search for feasible nodes starts
}

func newCache() *cache {
	return &cache{nodes: map[string]*NodeInfo{}, podNode: map[types.UID]string{}, assumed: map[types.UID]bool{}}
}

func (c *cache) setNode(node *v1.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ni := c.nodes[node.Name]
	if ni == nil {
		ni = newNodeInfo()
		c.nodes[node.Name] = ni
		c.order = nil
	} else if ni.node == nil {
		c.order = nil
	}
	ni.setNode(node)
}

func (c *cache) removeNode(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ni := c.nodes[name]
	if ni == nil {
		return
	}
	c.order = nil
	if len(ni.pods) == 0 {
		delete(c.nodes, name)
		return
	}
	ni.setNode(nil) // keep the pods' accounting until they go
}

// addPod accounts a bound pod, replacing any earlier version or assumption.
func (c *cache) addPod(pod *v1.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removeLocked(pod.UID)
	c.addLocked(pod)
}

func (c *cache) removePod(uid types.UID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removeLocked(uid)
}

// assume accounts pod (whose spec.nodeName is the chosen node) before the
// bind completes. Called with c.mu held by the scheduling cycle.
func (c *cache) assumeLocked(pod *v1.Pod) {
	c.removeLocked(pod.UID)
	c.addLocked(pod)
	c.assumed[pod.UID] = true
}

// forget drops an assumed pod after a failed bind. A pod the informer has
// meanwhile reported bound is kept.
func (c *cache) forget(uid types.UID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.assumed[uid] {
		c.removeLocked(uid)
	}
}

func (c *cache) isAssumed(uid types.UID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.assumed[uid]
}

func (c *cache) addLocked(pod *v1.Pod) {
	ni := c.nodes[pod.Spec.NodeName]
	if ni == nil {
		ni = newNodeInfo()
		c.nodes[pod.Spec.NodeName] = ni
	}
	ni.addPod(newPodInfo(pod))
	c.podNode[pod.UID] = pod.Spec.NodeName
}

func (c *cache) removeLocked(uid types.UID) {
	name, ok := c.podNode[uid]
	if !ok {
		return
	}
	delete(c.podNode, uid)
	delete(c.assumed, uid)
	ni := c.nodes[name]
	if ni == nil {
		return
	}
	ni.removePod(uid)
	if ni.node == nil && len(ni.pods) == 0 {
		delete(c.nodes, name)
	}
}

// nodeList returns the schedulable node infos in name order. c.mu held.
func (c *cache) nodeListLocked() []*NodeInfo {
	if c.order == nil {
		c.order = make([]*NodeInfo, 0, len(c.nodes))
		for _, ni := range c.nodes {
			if ni.node != nil {
				c.order = append(c.order, ni)
			}
		}
		sort.Slice(c.order, func(i, j int) bool { return c.order[i].node.Name < c.order[j].node.Name })
	}
	return c.order
}

// cycle is the state of scheduling one pod.
type cycle struct {
	pod  *podInfo
	anti antiAffinity
}

// fitError says why a pod fits no node; Error renders kube-scheduler's
// FailedScheduling message.
type fitError struct {
	numNodes int
	reasons  map[string]int // reason → number of nodes
}

func (e *fitError) Error() string {
	if e.numNodes == 0 {
		return "no nodes available to schedule pods"
	}
	hist := make([]string, 0, len(e.reasons))
	for r, n := range e.reasons {
		hist = append(hist, fmt.Sprintf("%d %s", n, r))
	}
	sort.Strings(hist) // as upstream: by string, so "10 x" sorts before "2 y"
	msg := fmt.Sprintf("0/%d nodes are available:", e.numNodes)
	if len(hist) > 0 {
		msg += " " + strings.Join(hist, ", ") + "."
	}
	// This scheduler does not preempt; say so in upstream's words.
	return msg + fmt.Sprintf(" preemption: 0/%d nodes are available: %d Preemption is not helpful for scheduling.", e.numNodes, e.numNodes)
}

// numFeasibleNodesToFind is kube-scheduler's adaptive percentageOfNodesToScore:
// all nodes below 100, otherwise 50% minus 1% per 125 nodes (at least 5%),
// but never fewer than 100 nodes.
func numFeasibleNodesToFind(all int) int {
	const minFeasible, minPercent = 100, 5
	if all < minFeasible {
		return all
	}
	pct := max(50-all/125, minPercent)
	return max(all*pct/100, minFeasible)
}

// schedule picks a node for pod and assumes the pod there. Filters run over
// the nodes in name order starting where the previous search stopped, until
// enough feasible nodes are found; scores pick among them. Ties go to the
// node found first, so a decision is a deterministic function of the snapshot.
func (c *cache) schedule(pod *v1.Pod) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	nodes := c.nodeListLocked()
	if len(nodes) == 0 {
		return "", &fitError{}
	}
	cy := &cycle{pod: newPodInfo(pod), anti: newAntiAffinity(pod, nodes)}
	want := numFeasibleNodesToFind(len(nodes))
	feasible := make([]*NodeInfo, 0, want)
	var reasons map[string]int
	start := c.nextStart % len(nodes)
	visited := 0
	for ; visited < len(nodes) && len(feasible) < want; visited++ {
		ni := nodes[(start+visited)%len(nodes)]
		failed := false
		for _, f := range filters {
			if rs := f.fn(cy, ni); len(rs) > 0 {
				if reasons == nil {
					reasons = map[string]int{}
				}
				for _, r := range rs {
					reasons[r]++
				}
				failed = true
				break
			}
		}
		if !failed {
			feasible = append(feasible, ni)
		}
	}
	c.nextStart = (start + visited) % len(nodes)
	if len(feasible) == 0 {
		return "", &fitError{numNodes: len(nodes), reasons: reasons}
	}
	best := feasible[0]
	if len(feasible) > 1 {
		total := make([]int64, len(feasible))
		raw := make([]int64, len(feasible))
		for _, s := range scores {
			for i, ni := range feasible {
				raw[i] = s.fn(cy, ni)
			}
			if s.normalize != nil {
				s.normalize(raw)
			}
			for i := range raw {
				total[i] += raw[i] * s.weight
			}
		}
		bi := 0
		for i := range total {
			if total[i] > total[bi] {
				bi = i
			}
		}
		best = feasible[bi]
	}
	// A shallow copy is enough: only spec.nodeName differs and nothing
	// reachable from the informer's object is written.
	assumed := *pod
	assumed.Spec.NodeName = best.node.Name
	c.assumeLocked(&assumed)
	return best.node.Name, nil
}
