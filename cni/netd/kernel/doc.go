// Package kernel is netd's kernel adapter: it reads and changes the VXLAN
// device, routes, neighbours, FDB entries and sysctls of one network
// namespace. Netlink does it on Linux (netlink_linux.go and friends); Fake
// does it in memory, with the same rules, so the layers above are tested
// without root.
package kernel

// RouteProtocol marks the routes netd installs (rtm_protocol), so that it
// can find and remove exactly its own routes. iproute2 shows it as "proto 114".
const RouteProtocol = 114
