package flowtest

// The behaviour every backend implements, as the cases encode it. A
// "frontend" is a (destination address, protocol, port) of a service
// port: its cluster IPs with Port; for external frontends, each of
// Node.NodePortAddresses with NodePort, each externalIP and each
// LoadBalancer IP with Port. Anything else is not a service: ACCEPT (the
// zero Verdict), untouched.
//
// Cluster IPs (internal traffic):
//   - ClusterEndpoints non-empty: DNAT to one of them.
//   - ClusterEndpoints empty: REJECT (also with internalTrafficPolicy
//     Local and only remote endpoints; kube-proxy drops that case, we
//     refuse at once).
//   - Masquerade when the source is outside Node.ClusterCIDRs (off-cluster
//     clients and the node's own processes) or when the chosen endpoint
//     is the source itself (hairpin).
//
// External frontends with externalTrafficPolicy Cluster:
//   - DNAT to ClusterEndpoints, always masqueraded; REJECT when empty.
//
// External frontends with externalTrafficPolicy Local (ExternalPolicyLocal):
//   - from a source inside Node.ClusterCIDRs (a pod): treated exactly as
//     internal traffic (ClusterEndpoints, masquerade only for hairpin);
//   - from the node itself (FromNode): ClusterEndpoints, masqueraded;
//   - from anywhere else: DNAT to LocalEndpoints without masquerade, so
//     the endpoint sees the client's address; if LocalEndpoints is empty,
//     REJECT when the service port has no endpoints at all
//     (!HasEndpoints()), else DROP.
//
// Not expressible as one first packet, so not cased here (backends test
// them in their own golden tests): conntrack INVALID drop, session
// affinity pinning, stale UDP conntrack flushing.
