package scheduler

import (
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Default requests used by scoring (not filtering) for containers that ask for
// nothing, as kube-scheduler does, so that request-less pods still spread.
const (
	defaultMilliCPURequest int64 = 100               // 0.1 core
	defaultMemoryRequest   int64 = 200 * 1024 * 1024 // 200 MiB
)

// resources is the part of a ResourceList the scheduler accounts.
type resources struct {
	milliCPU int64
	memory   int64
}

func (r *resources) add(o resources) { r.milliCPU += o.milliCPU; r.memory += o.memory }
func (r *resources) sub(o resources) { r.milliCPU -= o.milliCPU; r.memory -= o.memory }

// podInfo is a pod plus what the scheduler derives from it once.
type podInfo struct {
	pod      *v1.Pod
	requests resources // what filters compare against allocatable
	nonZero  resources // requests with defaults filled in, for scoring
	ports    []hostPort
	owner    types.UID // controller ownerRef, "" if none
	// hasRequiredAntiAffinity is set when the pod carries required pod
	// anti-affinity terms that other pods must respect.
	hasRequiredAntiAffinity bool
}

type hostPort struct {
	ip       string // "0.0.0.0" when unset
	protocol v1.Protocol
	port     int32
}

func newPodInfo(pod *v1.Pod) *podInfo {
	pi := &podInfo{pod: pod}
	pi.requests, pi.nonZero = podRequests(pod)
	pi.ports = podHostPorts(pod)
	if ref := controllerRef(pod); ref != nil {
		pi.owner = ref.UID
	}
	if a := pod.Spec.Affinity; a != nil && a.PodAntiAffinity != nil {
		pi.hasRequiredAntiAffinity = len(a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution) > 0
	}
	return pi
}

func controllerRef(pod *v1.Pod) *metav1.OwnerReference {
	for i := range pod.OwnerReferences {
		if r := &pod.OwnerReferences[i]; r.Controller != nil && *r.Controller {
			return r
		}
	}
	return nil
}

// podRequests returns the effective requests of a pod: the larger of the sum
// of its containers and its largest init container, plus overhead. Restartable
// (sidecar) init containers are added to the long-running sum.
func podRequests(pod *v1.Pod) (req, nonZero resources) {
	var sidecars, sidecarsNZ resources
	var initMax, initMaxNZ resources
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		r, nz := containerRequests(c)
		if c.RestartPolicy != nil && *c.RestartPolicy == v1.ContainerRestartPolicyAlways {
			sidecars.add(r)
			sidecarsNZ.add(nz)
			continue
		}
		// A regular init container runs next to the sidecars started before it.
		r.add(sidecars)
		nz.add(sidecarsNZ)
		initMax = maxResources(initMax, r)
		initMaxNZ = maxResources(initMaxNZ, nz)
	}
	for i := range pod.Spec.Containers {
		r, nz := containerRequests(&pod.Spec.Containers[i])
		req.add(r)
		nonZero.add(nz)
	}
	req.add(sidecars)
	nonZero.add(sidecarsNZ)
	req = maxResources(req, initMax)
	nonZero = maxResources(nonZero, initMaxNZ)
	if pod.Spec.Overhead != nil {
		o := resourcesOf(pod.Spec.Overhead)
		req.add(o)
		nonZero.add(o)
	}
	return req, nonZero
}

func containerRequests(c *v1.Container) (r, nonZero resources) {
	r = resourcesOf(c.Resources.Requests)
	nonZero = r
	if _, ok := c.Resources.Requests[v1.ResourceCPU]; !ok {
		nonZero.milliCPU = defaultMilliCPURequest
	}
	if _, ok := c.Resources.Requests[v1.ResourceMemory]; !ok {
		nonZero.memory = defaultMemoryRequest
	}
	return r, nonZero
}

func resourcesOf(l v1.ResourceList) resources {
	var r resources
	if q, ok := l[v1.ResourceCPU]; ok {
		r.milliCPU = q.MilliValue()
	}
	if q, ok := l[v1.ResourceMemory]; ok {
		r.memory = q.Value()
	}
	return r
}

func maxResources(a, b resources) resources {
	return resources{milliCPU: max(a.milliCPU, b.milliCPU), memory: max(a.memory, b.memory)}
}

func podHostPorts(pod *v1.Pod) []hostPort {
	var out []hostPort
	add := func(cs []v1.Container) {
		for i := range cs {
			for _, p := range cs[i].Ports {
				if p.HostPort <= 0 {
					continue
				}
				hp := hostPort{ip: p.HostIP, protocol: p.Protocol, port: p.HostPort}
				if hp.ip == "" {
					hp.ip = "0.0.0.0"
				}
				if hp.protocol == "" {
					hp.protocol = v1.ProtocolTCP
				}
				out = append(out, hp)
			}
		}
	}
	add(pod.Spec.InitContainers) // sidecars may hold ports too
	add(pod.Spec.Containers)
	return out
}

// protoPort keys the host ports in use on a node.
type protoPort struct {
	protocol v1.Protocol
	port     int32
}

// NodeInfo is the scheduler's view of one node: the Node object and the pods
// accounted to it (bound or assumed), with running totals.
type NodeInfo struct {
	node        *v1.Node // nil while pods are known but the node is not (yet)
	allocatable resources
	allowedPods int64

	pods             map[types.UID]*podInfo
	requested        resources
	nonZeroRequested resources
	usedPorts        map[protoPort]map[string]int // ip → count
	owners           map[types.UID]int            // controller UID → pods here
	antiAffinityPods int                          // pods with required anti-affinity
}

func newNodeInfo() *NodeInfo {
	return &NodeInfo{
		pods:      map[types.UID]*podInfo{},
		usedPorts: map[protoPort]map[string]int{},
		owners:    map[types.UID]int{},
	}
}

// newNodeInfoFor builds a NodeInfo holding node and pods; handy in tests.
func newNodeInfoFor(node *v1.Node, pods ...*v1.Pod) *NodeInfo {
	ni := newNodeInfo()
	ni.setNode(node)
	for _, p := range pods {
		ni.addPod(newPodInfo(p))
	}
	return ni
}

func (ni *NodeInfo) setNode(node *v1.Node) {
	ni.node = node
	if node == nil {
		ni.allocatable, ni.allowedPods = resources{}, 0
		return
	}
	ni.allocatable = resourcesOf(node.Status.Allocatable)
	ni.allowedPods = 0
	if q, ok := node.Status.Allocatable[v1.ResourcePods]; ok {
		ni.allowedPods = q.Value()
	}
}

func (ni *NodeInfo) addPod(pi *podInfo) {
	ni.pods[pi.pod.UID] = pi
	ni.requested.add(pi.requests)
	ni.nonZeroRequested.add(pi.nonZero)
	for _, hp := range pi.ports {
		k := protoPort{hp.protocol, hp.port}
		if ni.usedPorts[k] == nil {
			ni.usedPorts[k] = map[string]int{}
		}
		ni.usedPorts[k][hp.ip]++
	}
	if pi.owner != "" {
		ni.owners[pi.owner]++
	}
	if pi.hasRequiredAntiAffinity {
		ni.antiAffinityPods++
	}
}

func (ni *NodeInfo) removePod(uid types.UID) {
	pi, ok := ni.pods[uid]
	if !ok {
		return
	}
	delete(ni.pods, uid)
	ni.requested.sub(pi.requests)
	ni.nonZeroRequested.sub(pi.nonZero)
	for _, hp := range pi.ports {
		k := protoPort{hp.protocol, hp.port}
		if ni.usedPorts[k][hp.ip]--; ni.usedPorts[k][hp.ip] <= 0 {
			delete(ni.usedPorts[k], hp.ip)
			if len(ni.usedPorts[k]) == 0 {
				delete(ni.usedPorts, k)
			}
		}
	}
	if pi.owner != "" {
		if ni.owners[pi.owner]--; ni.owners[pi.owner] <= 0 {
			delete(ni.owners, pi.owner)
		}
	}
	if pi.hasRequiredAntiAffinity {
		ni.antiAffinityPods--
	}
}
