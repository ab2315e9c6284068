// Package kubelet is rudder's node agent for pods: it registers the Node,
// renews its Lease, and runs the pods bound to it as processes inside
// per-pod network namespaces, attached to the cluster network through
// whatever CNI configuration its CNI directory holds.
//
// The shape is upstream's: an informer on the node's pods feeds one
// worker per pod; each worker drives the pod towards its spec (network,
// volumes, init containers in order, containers, probes, termination) and
// writes back a status computed by a pure function of what it observed.
// The process runtime, the prober, the volume manager and the HTTPS API
// live in sub-packages; this package composes them.
package kubelet
