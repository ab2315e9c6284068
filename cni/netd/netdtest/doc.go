// Package netdtest builds throw-away network topologies for root tests: an
// "underlay" namespace holding a bridge on 198.18.0.0/24 and one "node"
// namespace per node, joined to it by a veth (eth0 in the node), plus
// cni0-like bridges and "pods" inside nodes, and ping and TCP checks between
// namespaces. Every namespace is named <prefix>-<role> with a random
// per-run prefix (rdrt-xxxxxx), made with lab/netns and deleted in
// t.Cleanup, also on failure.
// Nothing here touches the caller's (root) network namespace.
package netdtest
