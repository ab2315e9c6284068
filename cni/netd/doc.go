// Package netd is rudder's per-node overlay daemon. It learns the cluster's
// nodes (nodesource), computes the kernel state this node needs for the
// chosen backend (desired), brings the node's network namespace to that
// state (syncer over kernel), keeps forwarding open for pod traffic
// (forward), and hands the node's pod range to the CNI plugin (cniconf).
//
// Embedding it:
//
//	d, err := netd.New(cfg, netd.Deps{Nodes: nodesource.NewKube(...), Registerer: reg})
//	go d.Run(ctx)             // returns when ctx ends, or on a setup error
//	<-d.Ready()               // first complete sync done, files written
//	mux.Handle("/healthz", d.Healthz())
//
// Run re-syncs on every node change and at least every ResyncPeriod, so
// anything removed by hand comes back within that period.
//
// One process can run one netd per node namespace (the lab, test
// harnesses): give each its own Config (NodeName; NetNS, e.g.
// /run/netns/<node>; SubnetFile, CNIConfDir and IPAMDataDir under a
// per-node directory) and its own Registerer, or one registry wrapped with
// prometheus.WrapRegistererWith(prometheus.Labels{"node": name}, reg).
// Netd never acts on the namespace of the calling thread unless NetNS is
// empty. overlay_linux_test.go does exactly this with netdtest topologies.
package netd
